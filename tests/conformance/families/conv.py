"""Conv2d: groups and depthwise, stride, dilation, 'same'/'valid', the four
padding modes, bias on and off; PyTorch's own configurations; invalid
configurations. Weights are drawn here and given as .npy (default
initialisation is checked by the seed family)."""

from __future__ import annotations

from casekit import describe, expand

MODES = ["zeros", "zeros", "reflect", "replicate", "circular"]


UNBATCHED_CIRCULAR = (
    " (torch 1.13 raises 'Invalid padding size, expected 2 but got 4' for circular padding of an unbatched input; "
    "the reference is its batched result squeezed, which is what unbatched means and what later torch returns)"
)


def case(kit, attrs, shape, **kw):
    x = kit.tensor(shape)
    about = describe("Conv2d", attrs, [shape])
    if attrs.get("padding_mode") == "circular" and len(shape) == 3:
        kw["torch_batched"] = True
        about += UNBATCHED_CIRCULAR
    return kit.op_case("Conv2d", attrs, [x], about=about, **kw)


def same_pads(k: int, d: int) -> tuple[int, int]:
    total = d * (k - 1)
    return total // 2, total - total // 2


def fits(attrs: dict, shape: tuple) -> bool:
    """Would torch accept this configuration on this input?"""
    H, W = shape[-2:]
    k = expand(attrs["kernel_size"], 2)
    d = expand(attrs.get("dilation", 1), 2)
    padding = attrs.get("padding", 0)
    mode = attrs.get("padding_mode", "zeros")
    for size, ki, di, i in zip((H, W), k, d, range(2)):
        if padding == "same":
            before, after = same_pads(ki, di)
        elif padding == "valid":
            before = after = 0
        else:
            before = after = expand(padding, 2)[i]
        if mode == "reflect" and max(before, after) >= size:
            return False
        if mode == "circular" and max(before, after) > size:
            return False
        if size + before + after < di * (ki - 1) + 1:
            return False
    return True


def random_attrs(kit) -> dict:
    groups = kit.choice([1, 1, 1, 2, 3, "depthwise"])
    if groups == "depthwise":
        groups = kit.randint(1, 4)
        cin, cout = groups, groups * kit.randint(1, 2)
    else:
        cin, cout = groups * kit.randint(1, 3), groups * kit.randint(1, 3)
    attrs = {"in_channels": cin, "out_channels": cout, "kernel_size": kit.per_dim(2, 1, 4)}
    if kit.coin(0.5):
        attrs["stride"] = kit.per_dim(2, 1, 3)
    r = kit.rng.random()
    if r < 0.45:
        attrs["padding"] = kit.per_dim(2, 0, 3)
    elif r < 0.6 and attrs.get("stride", 1) in (1, [1, 1]):
        attrs["padding"] = "same"
    elif r < 0.7:
        attrs["padding"] = "valid"
    if kit.coin(0.35):
        attrs["dilation"] = kit.per_dim(2, 1, 3)
    if groups > 1 or kit.coin(0.1):
        attrs["groups"] = groups
    if kit.coin(0.3):
        attrs["bias"] = False
    if kit.coin(0.5):
        attrs["padding_mode"] = kit.choice(MODES)
    return attrs


def random_cases(kit, count: int):
    made = 0
    while made < count:
        attrs = random_attrs(kit)
        shape = kit.shape(2, channels=(attrs["in_channels"],) * 2, sizes=(1, 10))
        if not fits(attrs, shape):
            continue
        yield case(kit, attrs, shape)
        made += 1


def curated(kit):
    # Every padding mode with asymmetric per-dimension padding, and with 'same' (uneven: the extra cell goes after).
    for mode in ("zeros", "reflect", "replicate", "circular"):
        yield case(kit, {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "stride": 2, "padding": [1, 2], "padding_mode": mode}, (2, 2, 4, 5))
        yield case(kit, {"in_channels": 2, "out_channels": 2, "kernel_size": [4, 2], "padding": "same", "dilation": [1, 3], "padding_mode": mode}, (1, 2, 5, 6))
        yield case(kit, {"in_channels": 1, "out_channels": 2, "kernel_size": 2, "padding": [2, 3], "padding_mode": mode}, (1, 1, 3, 4))
    # reflect pad = size - 1 and circular pad = size are the largest allowed.
    yield case(kit, {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "padding": [2, 3], "padding_mode": "reflect"}, (1, 1, 3, 4))
    yield case(kit, {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "padding": [3, 4], "padding_mode": "circular"}, (1, 1, 3, 4))
    yield case(kit, {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "padding": 5, "padding_mode": "replicate"}, (1, 1, 2, 3))
    # Kernel exactly the padded input; a stride skipping the last rows (they get no gradient).
    yield case(kit, {"in_channels": 2, "out_channels": 3, "kernel_size": [5, 6], "padding": 1}, (2, 2, 3, 4))
    yield case(kit, {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "stride": 3}, (1, 2, 7, 8))
    # Zero batch, unbatched, no bias, 1x1.
    yield case(kit, {"in_channels": 3, "out_channels": 4, "kernel_size": [3, 2]}, (0, 3, 7, 5))
    yield case(kit, {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "padding": "same", "bias": False}, (3, 5, 6))
    yield case(kit, {"in_channels": 4, "out_channels": 2, "kernel_size": 1}, (2, 4, 3, 3))


def module_tests(kit):
    """PyTorch's new_module_tests, ModuleInfo and OpInfo samples (spec 12.1, 12.2)."""
    c = lambda cin, cout, k, **kw: {"in_channels": cin, "out_channels": cout, "kernel_size": k, **kw}  # noqa: E731
    for attrs, shape in [
        (c(3, 4, [3, 2]), (2, 3, 7, 5)),
        (c(3, 4, [3, 2]), (0, 3, 7, 5)),
        (c(3, 4, [3, 3], stride=[2, 2]), (2, 3, 6, 6)),
        (c(3, 4, [3, 3], stride=[2, 2], padding=[1, 1]), (2, 3, 6, 6)),
        (c(3, 2, [3, 3], stride=[2, 2], padding=[1, 1], dilation=[2, 2]), (2, 3, 8, 8)),
        (c(3, 4, [3, 2], stride=1, padding=0, dilation=1, groups=1, bias=False), (2, 3, 6, 5)),
        (c(4, 6, [3, 2], groups=2), (2, 4, 6, 5)),
        (c(2, 4, [3, 4], padding="valid"), (2, 2, 6, 5)),
        (c(2, 4, [3, 4], padding="same"), (2, 2, 6, 5)),
        (c(2, 4, [3, 4], padding="same", dilation=2), (2, 2, 6, 5)),
        (c(4, 4, [3, 3], groups=4), (2, 4, 6, 6)),
        (c(4, 8, [3, 3], groups=4), (2, 4, 6, 6)),
        (c(4, 4, [3, 3], stride=[2, 2], groups=4), (2, 4, 6, 6)),
        (c(4, 4, [3, 3], padding=[1, 1], groups=4), (2, 4, 6, 6)),
        (c(4, 4, [2, 2], dilation=2, groups=4), (2, 4, 5, 5)),
        (c(4, 5, 3), (2, 4, 3, 4)),
        (c(4, 5, 3), (4, 3, 4)),
        (c(4, 5, 3, padding="same"), (2, 4, 3, 4)),
        (c(4, 5, 3, padding="same"), (4, 3, 4)),
    ]:
        yield case(kit, attrs, shape)
    for mode in ("reflect", "circular", "replicate", "zeros"):
        yield case(kit, c(2, 3, 3, stride=2, padding=[1, 2], padding_mode=mode), (2, 2, 4, 4))
    # OpInfo conv2d: (input, weight shape -> attrs), each batched and unbatched.
    for attrs, shape in [
        (c(3, 3, 3, stride=[2, 2], padding=2), (1, 3, 4, 4)),
        (c(4, 2, 3, stride=[3, 2], padding=[2, 1], groups=2, dilation=[4, 4]), (2, 4, 8, 8)),
        (c(4, 1, [2, 3], stride=2, padding=1, dilation=[2, 3]), (1, 4, 5, 5)),
        (c(2, 4, [3, 4], stride=2, padding=1, bias=False), (1, 2, 4, 3)),
        (c(4, 1, [2, 3], stride=2, padding="valid", bias=False), (1, 4, 5, 5)),
        (c(4, 1, [2, 3], stride=1, padding="same", dilation=3, bias=False), (1, 4, 5, 5)),
        (c(4, 3, 3, bias=False), (1, 4, 5, 5)),
    ]:
        yield case(kit, attrs, shape)
        yield case(kit, attrs, shape[1:])


def errors(kit):
    c = lambda cin, cout, k, **kw: {"in_channels": cin, "out_channels": cout, "kernel_size": k, **kw}  # noqa: E731
    fixed = [
        (c(4, 4, 3, groups=0), (1, 4, 5, 5)),
        (c(4, 4, 3, groups=-1), (1, 4, 5, 5)),
        (c(4, 6, 3, groups=4), (1, 4, 5, 5)),
        (c(3, 6, 3, groups=2), (1, 3, 5, 5)),
        (c(4, 4, 3, padding="full"), (1, 4, 5, 5)),
        (c(4, 4, 3, padding="same", stride=2), (1, 4, 5, 5)),
        (c(4, 4, 3, padding_mode="mirror"), (1, 4, 5, 5)),
        (c(4, 4, 0), (1, 4, 5, 5)),
        (c(4, 4, 3, stride=0), (1, 4, 5, 5)),
        (c(4, 4, 3, stride=-1), (1, 4, 5, 5)),
        (c(4, 4, 3, padding=-1), (1, 4, 5, 5)),
        (c(4, 4, 3, dilation=0), (1, 4, 5, 5)),
        (c(4, 4, 3), (5, 5)),
        (c(4, 4, 3), (1, 1, 4, 5, 5)),
    ]
    for attrs, shape in fixed:
        yield case(kit, attrs, shape)
    for i in range(30):
        attrs = random_attrs(kit)
        shape = list(kit.shape(2, batch="batched", channels=(attrs["in_channels"],) * 2, sizes=(1, 6)))
        flaw = i % 4
        if flaw == 0:  # channel mismatch
            shape[1] += kit.randint(1, 2)
        elif flaw == 1:  # kernel larger than the padded input
            attrs["padding"] = 0
            attrs["kernel_size"] = [shape[2] + kit.randint(1, 2), kit.randint(1, 3)]
            attrs.pop("padding_mode", None)
        elif flaw == 2:  # reflect padding not smaller than the size
            attrs["padding_mode"] = "reflect"
            attrs["padding"] = [shape[2] + kit.randint(0, 1), 0]
            attrs.pop("dilation", None)
        else:  # circular padding wrapping more than once
            attrs["padding_mode"] = "circular"
            attrs["padding"] = [0, shape[3] + 1]
            attrs.pop("dilation", None)
        yield case(kit, attrs, tuple(shape))


def cases(kit):
    yield from curated(kit)
    yield from module_tests(kit)
    yield from random_cases(kit, 300)
    yield from errors(kit)
