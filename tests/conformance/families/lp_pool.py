"""LPPool1d/2d/3d: p odd, even, fractional and negative on positive, signed,
tied and non-finite inputs; ceil_mode's rescaled partial windows; windows
summing to zero; PyTorch's own test configurations; invalid configurations.

LPPool1d and LPPool2d are checked against the torch 1.13 modules. 1.13 has
no LPPool3d: its reference is current PyTorch's lp_pool3d formula evaluated
with 1.13's avg_pool3d, (sign(A) * relu(|A|)) * K)^(1/p), A = avg_pool3d(x^p).
"""

from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F

from casekit import describe, expand, pool_output_size

NORMS = [1, 1, 1.5, 2, 2, 2, 3, 3, 4, 2.5, 0.5, 1.25, 5, -1]
# Signed inputs keep their sign under x^p (no abs, as in 1.13): NaN for
# fractional p, negative sums for odd p.
KINDS = ["positive"] * 9 + ["normal"] * 5 + ["ints"] * 3 + ["nan", "inf"]


def lp3d_reference(x, p, kernel, stride, ceil):
    """Current PyTorch's lp_pool3d, on 1.13's avg_pool3d."""
    kd, kh, kw = kernel if isinstance(kernel, tuple) else (kernel,) * 3
    out = F.avg_pool3d(x.pow(p), kernel, stride if stride is not None else kernel, 0, ceil)
    return (torch.sign(out) * F.relu(torch.abs(out))).mul(kd * kh * kw).pow(1.0 / p)


def lp_model(op: str, attrs: dict, shape: tuple) -> dict:
    return {
        "format": "mininn/1",
        "inputs": [{"name": "input", "shape": list(shape)}],
        "nodes": [{"name": "node", "op": op, "inputs": ["input"], "outputs": ["output"], "attrs": attrs}],
        "outputs": ["output"],
    }


def functional_case(kit, op: str, attrs: dict, x, reference, about: str | None = None):
    """A case whose torch side is a function of the input, not an nn module."""
    return kit.graph_case(
        about or describe(op, attrs, [x.shape]) + " (functional reference)",
        lp_model(op, attrs, x.shape),
        {"input": x},
        lambda: {},
        lambda t, modules: {"output": reference(t["input"])},
    )


def case(kit, rank: int, attrs: dict, x, kind: str | None = None, **kw):
    about = describe(f"LPPool{rank}d", attrs, [x.shape]) + (f", {kind} values" if kind else "")
    if rank < 3:
        return kit.op_case(f"LPPool{rank}d", attrs, [x], about=about, **kw)
    p, kernel, stride, ceil = attrs["norm_type"], attrs["kernel_size"], attrs.get("stride"), attrs.get("ceil_mode", False)
    return functional_case(kit, "LPPool3d", attrs, x,
                           lambda t: lp3d_reference(t, p, tuple_of(kernel), tuple_of(stride), ceil), about)


def tuple_of(value):
    return tuple(value) if isinstance(value, list) else value


def valid(attrs: dict, spatial: tuple) -> bool:
    rank = len(spatial)
    k = expand(attrs["kernel_size"], rank)
    s = expand(attrs.get("stride") or attrs["kernel_size"], rank)
    if rank == 3 and any(size < ki for size, ki in zip(spatial, k)):
        return False  # avg_pool3d's "smaller than kernel size", even under ceil_mode
    return all(pool_output_size(L, ki, si, 0, 1, attrs.get("ceil_mode", False)) >= 1 for L, ki, si in zip(spatial, k, s))


def random_attrs(kit, rank: int) -> dict:
    # 1.13's LPPool1d multiplies by kernel_size itself, so only an int works there.
    attrs = {"norm_type": kit.choice(NORMS), "kernel_size": kit.randint(1, 4) if rank == 1 else kit.per_dim(rank, 1, 3)}
    r = kit.rng.random()
    if r < 0.15:
        attrs["stride"] = None
    elif r > 0.45:
        attrs["stride"] = kit.randint(1, 4) if rank == 1 else kit.per_dim(rank, 1, 3)
    if kit.coin(0.5):
        attrs["ceil_mode"] = True
    return attrs


def random_cases(kit, count: int):
    made = 0
    while made < count:
        rank = kit.choice([1, 2, 2, 3])
        attrs = random_attrs(kit, rank)
        shape = kit.shape(rank)
        if not valid(attrs, shape[-rank:]):
            continue
        kind = kit.choice(KINDS)
        if attrs["norm_type"] < 0 or (attrs["norm_type"] < 1 and kind in ("ints", "nan", "inf")):
            # 0^(p-1) for p < 1 and sums of 1/x that cancel: covered by the curated cases.
            kind = "positive"
        yield case(kit, rank, attrs, kit.tensor(shape, kind), kind)
        made += 1


def curated(kit):
    t = lambda values: np.array(values, dtype=np.float32)  # noqa: E731
    one_to_five = t([[[1, 2, 3, 4, 5]]])
    # Spec section 11 and 7.
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 2}, one_to_five)
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 2, "stride": 1}, one_to_five)
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 2, "ceil_mode": True}, one_to_five)  # last: sqrt(25*2)
    yield case(kit, 1, {"norm_type": 1, "kernel_size": 2, "ceil_mode": True}, np.ones((1, 1, 5), np.float32))
    yield case(kit, 2, {"norm_type": 2, "kernel_size": 2, "ceil_mode": True}, np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3))
    yield case(kit, 2, {"norm_type": 3, "kernel_size": [1, 2], "ceil_mode": True}, t([[[[1, 2, 3], [4, 5, 6]]]]))
    # No abs: p = 1 stays negative, odd p gives NaN for a negative sum,
    # fractional p for any negative element; a zero sum has gradient 0.
    yield case(kit, 1, {"norm_type": 1, "kernel_size": 2}, t([[[-1, -2, -3, -4]]]))
    yield case(kit, 1, {"norm_type": 1, "kernel_size": 2}, t([[[-1, -2, 3, -4, 2, -2]]]))
    yield case(kit, 1, {"norm_type": 3, "kernel_size": 2}, t([[[-1, -2, 3, 1, 2, -2]]]))
    yield case(kit, 1, {"norm_type": 1.5, "kernel_size": 2}, t([[[-1, 2, 3, 1]]]))
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 2}, t([[[-1, -2, 3, 0]]]))
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 2}, t([[[0, 0, 3, 0]]]))
    yield case(kit, 1, {"norm_type": 1.5, "kernel_size": 2}, t([[[0, 0, 3, 0]]]))
    yield case(kit, 1, {"norm_type": 0.5, "kernel_size": 2}, t([[[0, 0, 3, 0, 1, 2]]]))  # NaN and inf gradients
    yield case(kit, 1, {"norm_type": -1, "kernel_size": 2}, t([[[0.5, 0.2, 3, 0, 1, 1]]]))
    yield case(kit, 1, {"norm_type": -2, "kernel_size": 2}, t([[[0.5, 0.2, 3, 1, 1, 1]]]))
    yield case(kit, 2, {"norm_type": 1, "kernel_size": 2, "stride": 1}, t([[[[1, -1, 2], [-1, 1, -2], [3, 0, -3]]]]))
    yield case(kit, 2, {"norm_type": 2, "kernel_size": 2}, np.zeros((2, 2, 4, 4), np.float32))
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 2}, t([[[np.nan, 0.2, 3, 1, np.inf, 1]]]))
    yield case(kit, 2, {"norm_type": 2, "kernel_size": 2, "stride": 1}, kit.tensor((1, 2, 4, 5), "special"))
    # Large norms and tiny values stay finite in float32.
    yield case(kit, 2, {"norm_type": 8, "kernel_size": [2, 3], "stride": [1, 2], "ceil_mode": True}, kit.tensor((2, 3, 5, 6), "positive"))
    yield case(kit, 2, {"norm_type": 2, "kernel_size": 3}, kit.tensor((1, 1, 6, 6), "positive") * np.float32(1e-3))
    # Partial ceil windows in every dimension, stride larger than the kernel.
    yield case(kit, 2, {"norm_type": 2, "kernel_size": 2, "stride": 3, "ceil_mode": True}, kit.tensor((1, 2, 7, 8), "positive"))
    yield case(kit, 3, {"norm_type": 2, "kernel_size": [2, 2, 3], "stride": [1, 2, 2], "ceil_mode": True},
               np.arange(1, 25, dtype=np.float32).reshape(1, 1, 2, 3, 4))
    yield case(kit, 3, {"norm_type": 1.5, "kernel_size": 2, "stride": 3, "ceil_mode": True}, kit.tensor((2, 2, 5, 6, 7), "positive"))
    yield case(kit, 3, {"norm_type": 3, "kernel_size": [3, 1, 2]}, kit.tensor((3, 4, 5, 6), "normal"))
    # Zero batch and unbatched.
    for rank in (1, 2, 3):
        yield case(kit, rank, {"norm_type": 2, "kernel_size": 2}, np.zeros((0, 3) + (4,) * rank, np.float32))
        yield case(kit, rank, {"norm_type": 2, "kernel_size": 2, "stride": 1, "ceil_mode": True}, kit.tensor((2,) + (5,) * rank, "positive"))
    # mininn takes a one-element list kernel_size, which 1.13's LPPool1d
    # (TypeError) and LPPool2d (ValueError from _pair) refuse; the
    # reference is the same pooling with the plain int.
    x = kit.tensor((2, 3, 7), "positive")
    yield functional_case(kit, "LPPool1d", {"norm_type": 2, "kernel_size": [3], "stride": [2]}, x,
                          lambda t: F.lp_pool1d(t, 2.0, 3, 2),
                          "LPPool1d(kernel_size=[3]) (1.13 raises TypeError: mininn accepts a one-element list, as documented)")
    x = kit.tensor((1, 2, 6, 6), "positive")
    yield functional_case(kit, "LPPool2d", {"norm_type": 3, "kernel_size": [2], "ceil_mode": True}, x,
                          lambda t: F.lp_pool2d(t, 3.0, 2, None, True),
                          "LPPool2d(kernel_size=[2]) (1.13 raises ValueError: mininn accepts a one-element list, as documented)")


def module_tests(kit):
    """PyTorch's new_module_tests (spec 12.1): torch.rand inputs (non-negative, p may be 1.5)."""
    yield case(kit, 1, {"norm_type": 1.5, "kernel_size": 2}, kit.tensor((1, 3, 7), "positive"))
    for shape in ((1, 3, 7), (3, 7)):
        yield case(kit, 1, {"norm_type": 2, "kernel_size": 2, "stride": 3}, kit.tensor(shape, "positive"))
    for shape in ((1, 3, 7, 7), (3, 7, 7)):
        yield case(kit, 2, {"norm_type": 2, "kernel_size": 2, "stride": 2}, kit.tensor(shape, "positive"))
    yield case(kit, 2, {"norm_type": 1.5, "kernel_size": 2}, kit.tensor((1, 3, 7, 7), "positive"))
    # Current PyTorch's LPPool3d module test: (2, 2, 2) and (1.5, 2) on (1, 3, 7, 7, 7).
    yield case(kit, 3, {"norm_type": 2, "kernel_size": 2, "stride": 2}, kit.tensor((1, 3, 7, 7, 7), "positive"))
    yield case(kit, 3, {"norm_type": 1.5, "kernel_size": 2}, kit.tensor((1, 3, 7, 7, 7), "positive"))


def errors(kit):
    x1, x2, x3 = kit.tensor((1, 2, 6)), kit.tensor((1, 2, 5, 5)), kit.tensor((1, 2, 4, 4, 4))
    # p = 0: 1.13 raises ZeroDivisionError computing 1/p; mininn refuses the attribute.
    yield case(kit, 1, {"norm_type": 0, "kernel_size": 2}, x1)
    yield case(kit, 2, {"norm_type": 0, "kernel_size": 2}, x2)
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 0}, x1)  # stride = kernel = 0
    yield case(kit, 2, {"norm_type": 2, "kernel_size": [2, 0], "stride": 1}, x2)
    yield case(kit, 2, {"norm_type": 2, "kernel_size": 2, "stride": 0}, x2)
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 2, "stride": -1}, x1)
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 7}, x1)
    yield case(kit, 2, {"norm_type": 2, "kernel_size": [6, 2], "stride": [5, 2]}, x2)
    yield case(kit, 2, {"norm_type": 2, "kernel_size": 2}, kit.tensor((5, 5)))
    yield case(kit, 2, {"norm_type": 2, "kernel_size": 2}, kit.tensor((1, 1, 2, 5, 5)))
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 2}, kit.tensor((5,)))
    yield case(kit, 1, {"norm_type": 2, "kernel_size": 2}, np.zeros((1, 0, 5), np.float32))
    yield case(kit, 2, {"norm_type": 2, "kernel_size": 2}, np.zeros((1, 1, 0, 5), np.float32))
    # LPPool3d's errors are avg_pool3d's: an input smaller than the kernel,
    # even under ceil_mode; a zero stride; too small an output.
    yield case(kit, 3, {"norm_type": 2, "kernel_size": 3, "stride": 3, "ceil_mode": True}, kit.tensor((1, 1, 2, 5, 5)))
    yield case(kit, 3, {"norm_type": 2, "kernel_size": 2, "stride": 0}, x3)
    yield case(kit, 3, {"norm_type": 0, "kernel_size": 2}, x3)
    yield case(kit, 3, {"norm_type": 2, "kernel_size": 2}, kit.tensor((4, 4)))


def cases(kit):
    yield from curated(kit)
    yield from module_tests(kit)
    yield from random_cases(kit, 160)
    yield from errors(kit)
