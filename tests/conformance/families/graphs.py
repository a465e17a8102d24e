"""Whole networks, forward and backward, against the same network in torch:
fan-out (gradients summed), MaxPool -> MaxUnpool, Conv2d feeding several
pools with parameter gradients, upstream gradients on only some outputs,
inputs without gradients, intermediate values as outputs.

Convolutions feeding max pools use integer data and weights, so their
outputs are exact in float32 and float64 alike and ties between them are
real ties, resolved the same way by both (a near-tie rounded differently
would move an argmax and is not what these cases test)."""

from __future__ import annotations

import numpy as np

from casekit import Net


def ints(kit, shape, lo=-2, hi=2):
    return kit.rng.integers(lo, hi + 1, shape).astype(np.float32)


def conv(net, kit, name, x, y, cin, cout, k, integer=True, **attrs):
    bias = attrs.get("bias", True)
    params = {"weight": ints(kit, (cout, cin // attrs.get("groups", 1), k, k)) if integer
              else kit.tensor((cout, cin // attrs.get("groups", 1), k, k)) * 0.3}
    if bias:
        params["bias"] = ints(kit, (cout,)) if integer else kit.tensor((cout,))
    net.add(name, "Conv2d", [x], [y], {"in_channels": cin, "out_channels": cout, "kernel_size": k, **attrs}, params)


def curated(kit):
    # Fan-out: one value feeding two pools; the input's gradient is the sum.
    net = Net()
    net.input("x", (2, 3, 6, 6))
    net.add("max", "MaxPool2d", ["x"], ["m"], {"kernel_size": 2})
    net.add("avg", "AvgPool2d", ["x"], ["a"], {"kernel_size": 3, "stride": 1, "padding": 1})
    yield kit.net_case(net, {"x": kit.tensor((2, 3, 6, 6))}, ["m", "a"], "fan-out: x feeds MaxPool2d(2) and AvgPool2d(3, 1, 1)")

    # Fan-out three ways in 1d and 3d, one branch chained.
    for rank, shape in ((1, (2, 2, 9)), (3, (1, 2, 4, 5, 6))):
        net = Net()
        net.input("x", shape)
        net.add("max", f"MaxPool{rank}d", ["x"], ["m"], {"kernel_size": 2, "stride": 1})
        net.add("avg", f"AvgPool{rank}d", ["m"], ["a"], {"kernel_size": 2, "ceil_mode": True})
        net.add("amax", f"AdaptiveMaxPool{rank}d", ["x"], ["b"], {"output_size": 3})
        net.add("aavg", f"AdaptiveAvgPool{rank}d", ["x"], ["c"], {"output_size": 2})
        yield kit.net_case(net, {"x": kit.tensor(shape, "ints")}, ["a", "b", "c"], f"{rank}d: x feeds a MaxPool->AvgPool chain and two adaptive pools")

    # MaxPool(return_indices) -> MaxUnpool, both outputs seeded; with output_size and without.
    for rank, shape, extra in ((2, (2, 2, 5, 5), {"output_size": [5, 5]}), (2, (1, 3, 6, 4), {}),
                               (1, (2, 3, 7), {"output_size": [7]}), (3, (1, 2, 4, 4, 6), {})):
        net = Net()
        net.input("x", shape)
        net.add("pool", f"MaxPool{rank}d", ["x"], ["p", "i"], {"kernel_size": 2, "stride": 2, "return_indices": True})
        net.add("unpool", f"MaxUnpool{rank}d", ["p", "i"], ["r"], {"kernel_size": 2, "stride": 2, **extra})
        yield kit.net_case(net, {"x": kit.tensor(shape)}, ["p", "i", "r"], f"MaxPool{rank}d(2, return_indices) -> MaxUnpool{rank}d(2{', output_size' if extra else ''})")

    # Overlapping windows: duplicate indices into the unpool (the last write wins, the backward gathers).
    net = Net()
    net.input("x", (1, 2, 5, 5))
    net.add("pool", "MaxPool2d", ["x"], ["p", "i"], {"kernel_size": 3, "stride": 1, "return_indices": True})
    net.add("unpool", "MaxUnpool2d", ["p", "i"], ["r"], {"kernel_size": 3, "stride": 1})
    yield kit.net_case(net, {"x": kit.tensor((1, 2, 5, 5), "ints")}, ["r"], "MaxPool2d(3, 1) -> MaxUnpool2d(3, 1): duplicate indices")

    # Conv2d -> several pools, with parameter gradients.
    net = Net()
    net.input("x", (2, 2, 8, 8))
    conv(net, kit, "conv", "x", "f", 2, 4, 3, padding=1)
    net.add("max", "MaxPool2d", ["f"], ["m", "mi"], {"kernel_size": 2, "return_indices": True})
    net.add("avg", "AvgPool2d", ["f"], ["a"], {"kernel_size": 3, "stride": 2, "ceil_mode": True})
    net.add("adaptive", "AdaptiveAvgPool2d", ["f"], ["g"], {"output_size": [3, 5]})
    net.add("amax", "AdaptiveMaxPool2d", ["f"], ["h"], {"output_size": 3})
    yield kit.net_case(net, {"x": ints(kit, (2, 2, 8, 8), 0, 4)}, ["m", "mi", "a", "g", "h"], "Conv2d(2, 4, 3, padding=1) feeding four pools")

    # Conv2d with bias -> MaxPool and AvgPool, both outputs; and the conv output itself as an output too.
    net = Net()
    net.input("x", (1, 3, 7, 6))
    conv(net, kit, "conv", "x", "f", 3, 2, 2, stride=1, padding_mode="reflect", padding=1)
    net.add("max", "MaxPool2d", ["f"], ["m"], {"kernel_size": 3, "stride": 2, "padding": 1})
    net.add("avg", "AvgPool2d", ["f"], ["a"], {"kernel_size": 2, "count_include_pad": False, "padding": 1})
    yield kit.net_case(net, {"x": ints(kit, (1, 3, 7, 6), 0, 5)}, ["m", "a"], "Conv2d with bias (reflect) -> MaxPool2d and AvgPool2d")
    yield kit.net_case(net, {"x": ints(kit, (1, 3, 7, 6), 0, 5)}, ["f", "m", "a"], "the same with the conv output also a graph output (seeded too)")

    # Upstream gradients on only some outputs (mininn run --grad-output on a subset).
    for seeds in (["a"], ["m"], ["m", "g"]):
        net = Net()
        net.input("x", (2, 1, 6, 6))
        conv(net, kit, "conv", "x", "f", 1, 3, 3, padding="same")
        net.add("max", "MaxPool2d", ["f"], ["m"], {"kernel_size": 2})
        net.add("avg", "AvgPool2d", ["f"], ["a"], {"kernel_size": 2})
        net.add("adaptive", "AdaptiveAvgPool2d", ["m"], ["g"], {"output_size": 2})
        yield kit.net_case(net, {"x": ints(kit, (2, 1, 6, 6), 0, 3)}, ["m", "a", "g"],
                           f"Conv2d -> MaxPool2d, AvgPool2d, MaxPool->AdaptiveAvgPool; upstream gradient only on {seeds}", seeds=seeds)

    # An input without gradient: only the parameters get one.
    net = Net()
    net.input("x", (2, 2, 6, 6), requires_grad=False)
    conv(net, kit, "conv", "x", "f", 2, 2, 3, groups=2)
    net.add("max", "MaxPool2d", ["f"], ["m"], {"kernel_size": 2})
    yield kit.net_case(net, {"x": ints(kit, (2, 2, 6, 6), 0, 3)}, ["m"], "input with requires_grad false -> depthwise Conv2d -> MaxPool2d")

    # Two inputs, one without gradient; an int64 indices input from outside the graph.
    net = Net()
    net.input("x", (1, 2, 4, 4))
    net.input("y", (1, 2, 4, 4), requires_grad=False)
    net.input("idx", (1, 2, 2, 2), dtype="int64")
    net.add("pool_x", "MaxPool2d", ["x"], ["px"], {"kernel_size": 2})
    net.add("unpool", "MaxUnpool2d", ["px", "idx"], ["u"], {"kernel_size": 2})
    net.add("pool_y", "AvgPool2d", ["y"], ["py"], {"kernel_size": 2})
    idx = kit.rng.integers(0, 16, (1, 2, 2, 2)).astype(np.int64)
    yield kit.net_case(net, {"x": kit.tensor((1, 2, 4, 4)), "y": kit.tensor((1, 2, 4, 4)), "idx": idx}, ["u", "py"],
                       "two float inputs (one without gradient) and an int64 indices input")

    # Conv -> MaxPool -> MaxUnpool -> Conv -> AvgPool: gradients through the whole chain.
    net = Net()
    net.input("x", (1, 1, 8, 8))
    conv(net, kit, "conv1", "x", "f", 1, 2, 3, padding=1)
    net.add("pool", "MaxPool2d", ["f"], ["p", "i"], {"kernel_size": 2, "return_indices": True})
    net.add("unpool", "MaxUnpool2d", ["p", "i"], ["u"], {"kernel_size": 2})
    conv(net, kit, "conv2", "u", "g", 2, 3, 3, padding=1, padding_mode="circular", bias=False)
    net.add("avg", "AvgPool2d", ["g"], ["a"], {"kernel_size": 2})
    yield kit.net_case(net, {"x": ints(kit, (1, 1, 8, 8), 0, 4)}, ["a"], "Conv2d -> MaxPool2d -> MaxUnpool2d -> Conv2d(circular) -> AvgPool2d")

    # Unbatched and zero batch through a graph.
    for shape in ((2, 6, 6), (0, 2, 6, 6)):
        net = Net()
        net.input("x", shape)
        conv(net, kit, "conv", "x", "f", 2, 3, 3)
        net.add("max", "MaxPool2d", ["f"], ["m"], {"kernel_size": 2, "ceil_mode": True})
        net.add("avg", "AdaptiveAvgPool2d", ["f"], ["a"], {"output_size": [None, 2]})
        yield kit.net_case(net, {"x": ints(kit, shape, 0, 3)}, ["m", "a"], f"Conv2d -> MaxPool2d and AdaptiveAvgPool2d on {shape}")


POOLS = [
    ("MaxPool2d", lambda kit: {"kernel_size": kit.randint(1, 3), "stride": kit.randint(1, 2), "ceil_mode": kit.coin()}),
    ("AvgPool2d", lambda kit: {"kernel_size": kit.randint(1, 3), "stride": kit.randint(1, 2), "ceil_mode": kit.coin(),
                               "count_include_pad": kit.coin()}),
    ("AdaptiveMaxPool2d", lambda kit: {"output_size": kit.randint(1, 4)}),
    ("AdaptiveAvgPool2d", lambda kit: {"output_size": kit.randint(1, 4)}),
]


def random_graphs(kit, count: int):
    """A conv, then pools fanning out and chaining at random."""
    for n in range(count):
        net = Net()
        cin, cout = kit.randint(1, 3), kit.randint(1, 4)
        shape = (kit.randint(1, 2), cin, kit.randint(6, 10), kit.randint(6, 10))
        net.input("x", shape)
        conv(net, kit, "conv", "x", "v0", cin, cout, kit.randint(1, 3), padding=1, padding_mode=kit.choice(["zeros", "reflect", "replicate"]),
             bias=kit.coin())
        values, outputs, parts = ["v0"], [], []
        for i in range(kit.randint(2, 4)):
            op, draw = kit.choice(POOLS)
            source = kit.choice(values)
            net.add(f"pool{i}", op, [source], [f"v{i + 1}"], draw(kit))
            values.append(f"v{i + 1}")
            parts.append(f"{op}({source})")
        outputs = [v for v in values[1:] if kit.coin(0.7)] or [values[-1]]
        seeds = [v for v in outputs if kit.coin(0.8)] or None
        yield kit.net_case(net, {"x": ints(kit, shape, 0, 4)}, outputs,
                           f"random graph {n}: Conv2d -> {', '.join(parts)}; outputs {outputs}, seeded {seeds or 'all'}", seeds=seeds)


def cases(kit):
    yield from curated(kit)
    yield from random_graphs(kit, 20)
