"""AvgPool1d/2d/3d: divisors with padding, count_include_pad, the ceil
overhang and divisor_override (negative too); PyTorch's own test grids;
invalid configurations."""

from __future__ import annotations

import numpy as np

from casekit import describe, expand

KINDS = ["normal"] * 8 + ["ints"] * 4 + ["nan", "inf"]


def case(kit, rank, attrs, x, kind=None, **kw):
    about = describe(f"AvgPool{rank}d", attrs, [x.shape]) + (f", {kind} values" if kind else "")
    return kit.op_case(f"AvgPool{rank}d", attrs, [x], about=about, **kw)


def random_attrs(kit, rank: int) -> dict:
    attrs = {"kernel_size": kit.per_dim(rank, 1, 4)}
    k = expand(attrs["kernel_size"], rank)
    r = kit.rng.random()
    if r < 0.1:
        attrs["stride"] = None
    elif r > 0.35:
        attrs["stride"] = kit.per_dim(rank, 1, 5)
    if kit.coin(0.7):
        attrs["padding"] = kit.randint(0, min(k) // 2) if kit.coin() else [kit.randint(0, ki // 2) for ki in k]
    if kit.coin(0.5):
        attrs["ceil_mode"] = True
    if kit.coin(0.4):
        attrs["count_include_pad"] = False
    if rank > 1 and kit.coin(0.25):
        attrs["divisor_override"] = kit.choice([1, 2, 3, 7, -1, -2, -5])
    return attrs


def valid(attrs: dict, shape: tuple, rank: int) -> bool:
    from casekit import pool_output_size

    spatial = shape[-rank:]
    k = expand(attrs["kernel_size"], rank)
    s = expand(attrs.get("stride") or attrs["kernel_size"], rank)
    p = expand(attrs.get("padding", 0), rank)
    if rank == 3 and any(size < ki for size, ki in zip(spatial, k)):
        return False
    return all(pool_output_size(L, ki, si, pi, 1, attrs.get("ceil_mode", False)) >= 1 for L, ki, si, pi in zip(spatial, k, s, p))


def random_cases(kit, count: int):
    made = 0
    while made < count:
        rank = kit.choice([1, 2, 2, 3])
        attrs = random_attrs(kit, rank)
        shape = kit.shape(rank)
        if not valid(attrs, shape, rank):
            continue
        kind = kit.choice(KINDS)
        yield case(kit, rank, attrs, kit.tensor(shape, kind), kind)
        made += 1


def curated(kit):
    t = lambda values: np.array(values, dtype=np.float32)  # noqa: E731
    # The ceil overhang past the right padding is never counted, even with count_include_pad.
    yield case(kit, 1, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, t([[[1, 2, 3, 4, 5, 6]]]))
    yield case(kit, 2, {"kernel_size": 2, "stride": 3, "ceil_mode": True}, np.arange(49, dtype=np.float32).reshape(1, 1, 7, 7))
    for cip in (True, False):
        yield case(kit, 2, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": cip}, np.ones((1, 1, 6, 6), np.float32))
        yield case(kit, 3, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": cip}, kit.tensor((1, 2, 5, 4, 6)))
    # Kernel larger than the input under ceil (fine in 2d, an error in 3d).
    yield case(kit, 2, {"kernel_size": 3, "stride": 3, "ceil_mode": True}, t([[[[1, 2], [3, 4]]]]))
    yield case(kit, 3, {"kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": True}, kit.tensor((1, 1, 2, 2, 2)))
    yield case(kit, 2, {"kernel_size": 3, "stride": 1, "padding": 1}, kit.tensor((1, 1, 2, 2)))
    # divisor_override beats count_include_pad; negative divides with the sign.
    yield case(kit, 2, {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False, "divisor_override": 2}, np.ones((1, 1, 3, 3), np.float32))
    for divisor in (-1, -2, -7, 5):
        yield case(kit, 3, {"kernel_size": [2, 2, 3], "stride": [2, 2, 1], "padding": [1, 0, 1], "divisor_override": divisor}, kit.tensor((1, 1, 4, 5, 4)))
    # NaN and inf propagate through the sum (inf - inf is NaN).
    yield case(kit, 2, {"kernel_size": 2, "stride": 1}, t([[[[np.nan, 1, 2], [3, np.inf, 4], [-np.inf, 5, 6]]]]))
    # The gh-36977 ceil regressions (a zero divisor gave NaN).
    yield case(kit, 1, {"kernel_size": 1, "stride": 2, "ceil_mode": True}, kit.tensor((1, 1, 4)))
    yield case(kit, 2, {"kernel_size": [1, 2], "stride": 2, "padding": [0, 1], "ceil_mode": True}, kit.tensor((1, 1, 4, 5)))
    yield case(kit, 3, {"kernel_size": [1, 2, 3], "stride": 2, "ceil_mode": True}, kit.tensor((1, 1, 4, 5, 6)))
    for ceil in (False, True):
        yield case(kit, 3, {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": ceil}, kit.tensor((3, 4, 5)))
    # Zero batch, unbatched, one-element lists.
    for rank in (1, 2, 3):
        yield case(kit, rank, {"kernel_size": 2, "padding": 1}, np.zeros((0, 3) + (4,) * rank, np.float32))
        yield case(kit, rank, {"kernel_size": [3], "stride": [2], "padding": [1], "ceil_mode": True}, kit.tensor((2,) + (5,) * rank))


def module_tests(kit):
    """PyTorch's new_module_tests (spec 12.1) and OpInfo samples (12.2)."""
    for shape in ((2, 3, 6), (3, 6)):
        yield case(kit, 1, {"kernel_size": 2}, kit.tensor(shape))
    yield case(kit, 1, {"kernel_size": [2], "stride": [2]}, kit.tensor((2, 3, 6)))
    yield case(kit, 1, {"kernel_size": 2, "stride": 2, "padding": 1}, kit.tensor((2, 3, 6)))
    for divisor in (None, 1):
        extra = {} if divisor is None else {"divisor_override": divisor}
        for shape in ((2, 3, 6, 6), (3, 6, 6)):
            yield case(kit, 2, {"kernel_size": [2, 2], **extra}, kit.tensor(shape))
        yield case(kit, 2, {"kernel_size": [2, 2], "stride": [2, 2], **extra}, kit.tensor((2, 3, 6, 6)))
        yield case(kit, 2, {"kernel_size": [2, 2], "stride": [2, 2], "padding": [1, 1], **extra}, kit.tensor((2, 3, 6, 6)))
        for shape in ((2, 3, 4, 4, 4),) + (((3, 4, 4, 4),) if divisor is None else ()):
            yield case(kit, 3, {"kernel_size": [2, 2, 2], **extra}, kit.tensor(shape))
        for attrs in ({"kernel_size": 2, "stride": [2, 2, 2]}, {"kernel_size": 2, "stride": 2, "padding": [1, 1, 1]},
                      {"kernel_size": 4, "stride": 2, "padding": [1, 2, 1]}):
            yield case(kit, 3, {**attrs, **extra}, kit.tensor((2, 3, 5, 5, 5)))
        yield case(kit, 3, {"kernel_size": [2, 4, 8], "stride": 1, "padding": [1, 1, 2], **extra}, kit.tensor((2, 3, 2, 4, 8)))
        yield case(kit, 3, {"kernel_size": 3, "stride": 1, "padding": 0, **extra}, kit.tensor((2, 3, 4, 4, 4)))
        yield case(kit, 3, {"kernel_size": 2, "stride": 2, "padding": [1, 1, 1], **extra}, kit.tensor((2, 3, 4, 4, 4)))

    # OpInfo avg_pool2d: (shape, kernel, stride, padding, ceil, count_include_pad, divisor)
    for shape, k, s, p, ceil, cip, div in [
        ((1, 3, 9, 9), 3, 1, 1, True, False, 2),
        ((1, 3, 9, 9), [4, 4], [2, 3], 1, True, False, 2),
        ((1, 3, 9, 9), [6, 6], [3, 3], [2, 3], True, True, 2),
        ((2, 3, 9, 9), [3, 3], [1, 1], [1], True, False, 2),
        ((1, 1, 4, 4), [2, 2], None, [0], False, True, -2),
        ((1, 2, 6, 6), [4, 4], [2, 2], [2], True, True, None),
        ((1, 3, 9, 9), [3, 3], None, 0, False, True, None),
    ]:
        attrs = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil, "count_include_pad": cip}
        if div is not None:
            attrs["divisor_override"] = div
        yield case(kit, 2, attrs, kit.tensor(shape))
    # OpInfo avg_pool1d
    for shape, attrs in [
        ((2, 3, 9), {"kernel_size": 3}),
        ((1, 3, 9), {"kernel_size": 3, "stride": 1, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
        ((1, 3, 9), {"kernel_size": 6, "stride": 3, "padding": 2, "ceil_mode": True, "count_include_pad": True}),
        ((2, 3, 9), {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": True}),
        ((0, 3, 9), {"kernel_size": 6, "stride": 3, "padding": 2}),
        ((1, 2, 9), {"kernel_size": 7, "stride": 3, "padding": 2}),
        ((1, 2, 9), {"kernel_size": 7, "stride": 3, "padding": 3, "ceil_mode": True}),
        ((1, 2, 9), {"kernel_size": 7, "stride": 3, "padding": 0}),
        ((1, 2, 9), {"kernel_size": 7, "stride": 3, "padding": 0, "ceil_mode": True}),
    ]:
        yield case(kit, 1, attrs, kit.tensor(shape))
    # OpInfo avg_pool3d
    for shape, attrs in [
        ((2, 3, 3, 4, 4), {"kernel_size": 2}),
        ((1, 2, 4, 4, 4), {"kernel_size": 2, "stride": 1, "padding": 1, "ceil_mode": True, "count_include_pad": False, "divisor_override": 2}),
        ((1, 2, 5, 5, 5), {"kernel_size": [2, 3, 4], "stride": [1, 2, 2], "padding": [0, 1, 2], "ceil_mode": True, "count_include_pad": True, "divisor_override": 2}),
        ((1, 2, 5, 5, 5), {"kernel_size": [2, 3, 4], "stride": [1, 2, 2], "padding": [0, 1, 2]}),
        ((1, 1, 7, 5, 7), {"kernel_size": [6, 3, 4], "stride": [2, 3, 2], "padding": [3, 1, 0], "count_include_pad": False, "divisor_override": 2}),
        ((1, 1, 4, 5, 4), {"kernel_size": [2, 2, 3], "stride": [2, 2, 1], "divisor_override": -2}),
        ((1, 1, 6, 5, 6), {"kernel_size": [4, 5, 6], "stride": [2, 3, 2], "padding": 2, "ceil_mode": True}),
        ((0, 1, 4, 5, 4), {"kernel_size": [2, 3, 1], "stride": [2, 1, 2]}),
    ]:
        yield case(kit, 3, attrs, kit.tensor(shape))


def errors(kit):
    for i in range(45):
        rank = kit.choice([1, 2, 3])
        attrs = {"kernel_size": kit.per_dim(rank, 1, 3)}
        shape = kit.shape(rank, batch="batched", sizes=(3, 6))
        k = expand(attrs["kernel_size"], rank)
        flaw = i % 9
        if flaw == 0:
            attrs["padding"] = min(k) // 2 + 1
        elif flaw == 1:
            attrs["padding"] = -1
        elif flaw == 2:
            attrs["stride"] = kit.choice([0, -1])
        elif flaw == 3:
            attrs["kernel_size"], attrs["stride"] = 0, 1
        elif flaw == 4:
            attrs["kernel_size"] = [s + kit.randint(1, 2) for s in shape[-rank:]]
        elif flaw == 5:  # wrong rank
            shape = kit.choice([shape[-rank:], (1,) + shape])
        elif flaw == 6:  # a zero channel or spatial size
            shape = list(shape)
            shape[kit.randint(1, len(shape) - 1)] = 0
            shape = tuple(shape)
        elif flaw == 7:
            if rank == 1:  # AvgPool1d has no divisor_override (TypeError)
                attrs["divisor_override"] = 2
            else:
                attrs["divisor_override"] = 0
        else:  # AvgPool3d: input smaller than the kernel, even with padding and ceil
            rank = 3
            attrs = {"kernel_size": 3, "padding": 1, "ceil_mode": kit.coin(), "stride": kit.randint(1, 3)}
            shape = (1, 2, kit.randint(1, 2), 4, 4)
        yield case(kit, rank, attrs, kit.tensor(shape))


def fast_path_cases(kit):
    """Planes large enough for what the naive kernel's fast paths do beyond the
    small random cases (see max_pool.fast_path_cases); under auto the pools
    on fewer than 4 planes run there."""
    geometries = [
        (2, {"kernel_size": 2, "stride": 2}, (1, 2, 40, 50)),  # the seed's pool: 2 planes
        (2, {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}, (1, 2, 41, 39)),
        (2, {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False}, (1, 3, 20, 37)),
        (2, {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 2, 33, 47)),
        (2, {"kernel_size": 2, "stride": 2, "divisor_override": 3}, (1, 2, 18, 36)),
        (2, {"kernel_size": [3, 4], "stride": [2, 3], "padding": [1, 2], "ceil_mode": True}, (1, 1, 30, 61)),
        (1, {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 3, 700)),
        (3, {"kernel_size": 2, "stride": 2, "ceil_mode": True}, (1, 2, 5, 19, 35)),
        (3, {"kernel_size": 2, "stride": 2, "ceil_mode": True, "count_include_pad": False}, (1, 8, 5, 19, 35)),
    ]
    kinds = ["normal", "ints", "inf", "nan"]
    for i, (rank, attrs, shape) in enumerate(geometries):
        kind = kinds[i % len(kinds)]
        yield case(kit, rank, attrs, kit.tensor(shape, kind), kind)


def cases(kit):
    yield from curated(kit)
    yield from module_tests(kit)
    yield from random_cases(kit, 300)
    yield from errors(kit)
    yield from fast_path_cases(kit)
