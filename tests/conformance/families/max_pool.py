"""MaxPool1d/2d/3d: random windows over ties, NaN and -inf; the ceil and
dilation corners; PyTorch's own test grids; invalid configurations."""

from __future__ import annotations

import numpy as np

from casekit import expand, pool_output_size, windows_in_padding

KINDS = ["normal"] * 7 + ["ints"] * 6 + ["nan", "nan", "neginf", "neginf", "special", "special", "allnan", "allneginf"]
DEVIATION = (
    "(no PyTorch error: torch 1.13 returns -inf with an out-of-range index for a dilated window lying wholly "
    "in the padding, and its backward writes out of bounds; mininn refuses the configuration, as documented)"
)


def window_status(attrs: dict, spatial: tuple, dilation: bool = True) -> str:
    """"ok", "invalid" (torch raises) or "padding" (mininn's documented deviation)."""
    rank = len(spatial)
    k = expand(attrs["kernel_size"], rank)
    s = expand(attrs.get("stride") or attrs["kernel_size"], rank)
    p = expand(attrs.get("padding", 0), rank)
    d = expand(attrs.get("dilation", 1), rank) if dilation else [1] * rank
    ceil = attrs.get("ceil_mode", False)
    if any(v <= 0 for v in k + s + d) or any(not 0 <= pi <= ki // 2 for pi, ki in zip(p, k)):
        return "invalid"
    if any(pool_output_size(*args, ceil) < 1 for args in zip(spatial, k, s, p, d)):
        return "invalid"
    if any(windows_in_padding(*args, ceil) for args in zip(spatial, k, s, p, d)):
        return "padding"
    return "ok"


def random_attrs(kit, rank: int) -> dict:
    attrs = {"kernel_size": kit.per_dim(rank, 1, 4)}
    k = min(expand(attrs["kernel_size"], rank))
    r = kit.rng.random()
    if r < 0.3:
        pass  # stride defaults to the kernel
    elif r < 0.4:
        attrs["stride"] = None
    else:
        attrs["stride"] = kit.per_dim(rank, 1, 5)  # often > kernel
    if kit.coin(0.6):
        attrs["padding"] = kit.randint(0, k // 2) if kit.coin() else [kit.randint(0, ki // 2) for ki in expand(attrs["kernel_size"], rank)]
    if kit.coin(0.4):
        attrs["dilation"] = kit.per_dim(rank, 1, 3)
    if kit.coin(0.7):
        attrs["return_indices"] = True
    if kit.coin(0.5):
        attrs["ceil_mode"] = True
    return attrs


def case(kit, rank, attrs, x, kind=None, **kw):
    about = None
    if kind is not None:
        from casekit import describe
        about = describe(f"MaxPool{rank}d", attrs, [x.shape]) + f", {kind} values"
    return kit.op_case(f"MaxPool{rank}d", attrs, [x], about=about, **kw)


def random_cases(kit, count: int):
    deviations = 0
    made = 0
    while made < count:
        rank = kit.choice([1, 2, 2, 3])
        attrs = random_attrs(kit, rank)
        shape = kit.shape(rank)
        status = window_status(attrs, shape[-rank:])
        if status == "invalid":
            continue
        kind = kit.choice(KINDS)
        x = kit.tensor(shape, kind)
        if status == "padding":
            if deviations >= 12:
                continue
            deviations += 1
            yield case(kit, rank, attrs, x, kind, expect_error=DEVIATION)
        else:
            yield case(kit, rank, attrs, x, kind)
        made += 1


def curated(kit):
    t = lambda values: np.array(values, dtype=np.float32)  # noqa: E731
    nan, inf = np.nan, np.inf
    # The ceil drop rule (spec 2.1) and kernels larger than the input under ceil.
    yield case(kit, 1, {"kernel_size": 1, "stride": 3, "ceil_mode": True, "return_indices": True}, kit.tensor((1, 2, 5)))
    yield case(kit, 1, {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True, "return_indices": True}, kit.tensor((1, 1, 4)))
    yield case(kit, 1, {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True, "return_indices": True}, kit.tensor((1, 1, 6)))
    yield case(kit, 2, {"kernel_size": 1, "stride": 2, "ceil_mode": True, "return_indices": True}, kit.tensor((1, 1, 6, 7)))
    yield case(kit, 3, {"kernel_size": 1, "stride": 2, "ceil_mode": True, "return_indices": True}, kit.tensor((1, 1, 5, 6, 7)))
    for ceil in (False, True):
        yield case(kit, 3, {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": ceil, "return_indices": True}, kit.tensor((1, 3, 4, 5)))
    yield case(kit, 2, {"kernel_size": 3, "stride": 3, "ceil_mode": True, "return_indices": True}, t([[[[1, 2], [3, 4]]]]))
    yield case(kit, 2, {"kernel_size": 5, "stride": 4, "padding": 2, "ceil_mode": True, "return_indices": True}, kit.tensor((2, 3, 3), "ints"))
    # Padding is -inf, never 0.
    yield case(kit, 2, {"kernel_size": 3, "stride": 2, "padding": 1, "return_indices": True}, -np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3))
    # Ties: the first maximum in scan order wins.
    yield case(kit, 1, {"kernel_size": 5, "return_indices": True}, t([[[1, 3, 3, 2, 3]]]))
    yield case(kit, 2, {"kernel_size": 2, "return_indices": True}, t([[[[1, 3], [3, 3]]]]))
    yield case(kit, 3, {"kernel_size": 2, "return_indices": True}, np.ones((1, 1, 2, 2, 2), np.float32))
    yield case(kit, 2, {"kernel_size": 3, "stride": 1, "padding": 1, "return_indices": True}, np.ones((2, 2, 4, 4), np.float32))
    # NaN wins, and the last NaN supplies the index; -inf windows give the first in-bounds tap.
    yield case(kit, 1, {"kernel_size": 5, "return_indices": True}, t([[[1, nan, 5, nan, 2]]]))
    for rank in (1, 2, 3):
        yield case(kit, rank, {"kernel_size": 3, "return_indices": True}, np.full((1, 1) + (3,) * rank, nan, np.float32))
        yield case(kit, rank, {"kernel_size": 3, "return_indices": True}, np.full((1, 1) + (3,) * rank, -inf, np.float32))
    yield case(kit, 2, {"kernel_size": 3, "stride": 1, "padding": 1, "return_indices": True}, np.full((1, 1, 3, 3), -inf, np.float32))
    yield case(kit, 1, {"kernel_size": 1, "return_indices": True}, t([[[-inf]]]))
    yield case(kit, 2, {"kernel_size": 2, "stride": 1, "return_indices": True}, t([[[[inf, nan], [-inf, 1]]]]))
    # PyTorch's max_pool corner tests.
    yield case(kit, 1, {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 2, "return_indices": True}, t([[[1, 2]]]))
    yield case(kit, 1, {"kernel_size": 2, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True, "return_indices": True}, t([[[1, 2]]]))
    yield case(kit, 2, {"kernel_size": 2, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True, "return_indices": True}, t([[[[-1, -2], [-3, -4]]]]))
    yield case(kit, 2, {"kernel_size": 2, "stride": 1, "padding": 0, "dilation": 2, "return_indices": True}, np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5))
    # One-element lists broadcast; null stride is the kernel.
    yield case(kit, 2, {"kernel_size": [3], "stride": [2], "padding": [1], "return_indices": True}, kit.tensor((1, 2, 6, 7)))
    yield case(kit, 3, {"kernel_size": [2, 1, 3], "stride": None, "return_indices": True}, kit.tensor((2, 4, 5, 6)))
    # test_pooling's index test: MaxPoolNd(2) on arange(1, 4^(d+1)+1) viewed (2, 2, 4, ...).
    for rank in (1, 2, 3):
        x = np.arange(1, 4 ** (rank + 1) + 1, dtype=np.float32).reshape((2, 2) + (4,) * rank)
        yield case(kit, rank, {"kernel_size": 2, "return_indices": True}, x)
    # Zero batch and unbatched.
    for rank in (1, 2, 3):
        yield case(kit, rank, {"kernel_size": 2, "return_indices": True}, np.zeros((0, 2) + (5,) * rank, np.float32))
        yield case(kit, rank, {"kernel_size": 2, "stride": 1, "return_indices": True}, kit.tensor((2,) + (4,) * rank, "ints"))
    # Without return_indices the backward still needs the argmax.
    yield case(kit, 2, {"kernel_size": 3, "stride": 1}, kit.tensor((2, 2, 5, 5), "ints"))
    # mininn's documented deviation: dilated windows lying wholly in the padding.
    yield case(kit, 1, {"kernel_size": 2, "padding": 1, "dilation": 2}, t([[[1]]]), expect_error=DEVIATION)
    yield case(kit, 2, {"kernel_size": 2, "padding": 1, "dilation": 3, "return_indices": True}, kit.tensor((1, 1, 2, 2)), expect_error=DEVIATION)


def module_tests(kit):
    """PyTorch's new_module_tests (spec 12.1) and a sample of the OpInfo grid (12.2)."""
    for attrs in ({"kernel_size": 4}, {"kernel_size": 4, "stride": 4}, {"kernel_size": 4, "return_indices": True}):
        yield case(kit, 1, attrs, kit.tensor((2, 10, 4)))
    for shape in ((3, 7, 7), (1, 3, 7, 7)):
        yield case(kit, 2, {"kernel_size": [3, 3], "stride": [2, 2], "padding": [1, 1]}, kit.tensor(shape))
    yield case(kit, 2, {"kernel_size": [3, 3], "stride": [2, 2], "padding": [1, 1], "return_indices": True}, kit.tensor((1, 3, 7, 7)))
    for attrs in ({"kernel_size": [2, 2, 2]}, {"kernel_size": 2, "stride": [2, 2, 2]}, {"kernel_size": 2, "stride": 2, "padding": [1, 1, 1]},
                  {"kernel_size": 2, "stride": 2, "padding": [1, 1, 1], "return_indices": True}):
        yield case(kit, 3, attrs, kit.tensor((2, 3, 5, 5, 5)))

    tuples = {1: ([3], [2], [1], [1]), 2: ([3, 2], [2, 1], [1, 1], [1, 2]), 3: ([3, 2, 3], [2, 1, 2], None, [1, 2, 1])}
    for rank in (1, 2, 3):
        kv, sv, pv, dv = tuples[rank]
        grid = []
        for kernel in (3, kv):
            for stride in (2, None, sv):
                for ceil in (True, False):
                    for padding in (0, 1) + ((pv,) if pv else ()):
                        for dilation in (1, dv):
                            for batch in (1, 2, None):
                                for first in (3, 6):
                                    grid.append((kernel, stride, ceil, padding, dilation, batch, first))
        picks = kit.rng.choice(len(grid), size=40, replace=False)
        for i in sorted(picks):
            kernel, stride, ceil, padding, dilation, batch, first = grid[i]
            spatial = (first,) + {1: (), 2: (6,), 3: (6, 5)}[rank]
            shape = ((batch,) if batch else ()) + (2,) + spatial
            attrs = {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dilation,
                     "ceil_mode": ceil, "return_indices": True}
            status = window_status(attrs, spatial)
            x = kit.tensor(shape)
            yield case(kit, rank, attrs, x, expect_error=DEVIATION if status == "padding" else None)


def errors(kit):
    """Configurations PyTorch rejects, drawn at random."""
    for i in range(60):
        rank = kit.choice([1, 2, 3])
        attrs = {"kernel_size": kit.per_dim(rank, 1, 4), "return_indices": True}
        shape = kit.shape(rank, batch="batched")
        k = expand(attrs["kernel_size"], rank)
        flaw = i % 10
        if flaw == 0:
            attrs["padding"] = min(k) // 2 + kit.randint(1, 2)
        elif flaw == 1:
            attrs["padding"] = -1
        elif flaw == 2:
            attrs["stride"] = 0
        elif flaw == 3:
            attrs["stride"] = -kit.randint(1, 2)
        elif flaw == 4:
            attrs["kernel_size"], attrs["stride"] = kit.choice([0, -1]), 1
        elif flaw == 5:
            attrs["dilation"] = kit.choice([0, -1])
        elif flaw == 6:  # output too small: a kernel longer than the input
            attrs["kernel_size"] = [s + kit.randint(1, 3) for s in shape[-rank:]]
        elif flaw == 7:  # wrong rank
            shape = kit.choice([shape[-rank:], (1,) + shape])
        elif flaw == 8:  # a zero channel or spatial size
            shape = list(shape)
            shape[kit.randint(1, len(shape) - 1)] = 0
            shape = tuple(shape)
        else:  # test_pool_invalid_size: size 4, kernel 3, stride 2, dilation 2 gives (4-5)//2+1 = 0
            attrs = {"kernel_size": 3, "stride": 2, "dilation": 2, "return_indices": True}
            shape = (1, 1) + (4,) * rank
        yield case(kit, rank, attrs, kit.tensor(shape))
    # 1.13 checks the padding against the plain kernel, not the dilated one.
    yield case(kit, 2, {"kernel_size": 2, "padding": 2, "dilation": 3}, kit.tensor((1, 1, 8, 8)))


def fast_path_cases(kit):
    """Planes large enough for what the naive kernel's fast paths do beyond the
    small random cases: blocks of 16 outputs and the last block shifted back
    over the one before, rows split between threads, strides 1 and 2 with
    windows 2 and 3 wide (and the others through a copy), and what auto
    gives them (fewer than 4 planes: oneDNN's simple_nchw; 2-wide windows
    over rows of 16+ outputs)."""
    geometries = [
        (2, {"kernel_size": 2, "stride": 2}, (1, 2, 40, 50)),  # the seed's pool: 2 planes
        (2, {"kernel_size": 2, "stride": 2}, (2, 8, 34, 36)),  # JIT-sized planes, rows of 18
        (2, {"kernel_size": 2, "stride": 1}, (1, 3, 21, 37)),
        (2, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, (1, 2, 37, 41)),
        (2, {"kernel_size": 3, "stride": 1, "padding": 1}, (1, 1, 23, 45)),
        (2, {"kernel_size": 2, "stride": 2, "dilation": 2}, (1, 3, 30, 35)),
        (2, {"kernel_size": [2, 3], "stride": [2, 3], "padding": [1, 1], "dilation": [1, 2]}, (1, 2, 25, 70)),
        (1, {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 3, 700)),
        (1, {"kernel_size": 2, "stride": 2}, (1, 2, 1100)),
        (3, {"kernel_size": 2, "stride": 2, "ceil_mode": True}, (1, 2, 5, 19, 37)),
        (3, {"kernel_size": [1, 2, 2]}, (2, 4, 3, 20, 40)),
    ]
    kinds = ["normal", "ints", "nan", "neginf", "special"]
    for i, (rank, attrs, shape) in enumerate(geometries):
        for kind in (kinds[i % len(kinds)], kinds[(i + 2) % len(kinds)]):
            yield case(kit, rank, dict(attrs, return_indices=kind != "normal"), kit.tensor(shape, kind), kind)


def cases(kit):
    yield from curated(kit)
    yield from module_tests(kit)
    yield from random_cases(kit, 330)
    yield from errors(kit)
    yield from fast_path_cases(kit)
