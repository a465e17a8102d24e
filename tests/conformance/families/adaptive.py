"""AdaptiveMaxPool1d/2d/3d and AdaptiveAvgPool1d/2d/3d: overlapping windows
of non-divisible sizes, upsampling (out > in), null entries, size 0; PyTorch's
test configurations; invalid configurations."""

from __future__ import annotations

import numpy as np

from casekit import describe

MAX_KINDS = ["normal"] * 6 + ["ints"] * 5 + ["nan", "nan", "neginf", "special", "allnan", "allneginf"]
AVG_KINDS = ["normal"] * 8 + ["ints"] * 3 + ["nan", "inf"]
EMPTY_1D = (
    "(no PyTorch error: torch 1.13's adaptive_avg_pool1d alone accepts a zero channel or length and returns NaN "
    "or an empty tensor, where every other adaptive pool raises 'Expected input to have non-zero size for "
    "non-batch dimensions'; mininn raises that error for all of them)"
)


def case(kit, kind_of_pool, rank, attrs, x, kind=None, **kw):
    op = f"Adaptive{kind_of_pool}Pool{rank}d"
    about = describe(op, attrs, [x.shape]) + (f", {kind} values" if kind else "")
    return kit.op_case(op, attrs, [x], about=about, **kw)


def random_size(kit, rank: int, spatial: tuple):
    def one(size):
        r = kit.rng.random()
        if r < 0.15:
            return None if rank > 1 else size  # 1d's output_size is one int (None is a TypeError)
        if r < 0.35:
            return size + kit.randint(1, 4)  # upsampling: windows of one or two cells
        return kit.randint(1, size + 1)

    if kit.coin(0.3):
        size = one(min(spatial))
        return size if size is not None else [None] * rank
    return [one(s) for s in spatial] if rank > 1 else kit.choice([[one(spatial[0])], one(spatial[0])])


def random_cases(kit, count: int):
    for i in range(count):
        rank = kit.choice([1, 2, 2, 3])
        pool = "Max" if i % 2 == 0 else "Avg"
        shape = kit.shape(rank, sizes=(1, 10) if rank < 3 else (1, 7))
        attrs = {"output_size": random_size(kit, rank, shape[-rank:])}
        if pool == "Max" and kit.coin(0.7):
            attrs["return_indices"] = True
        kind = kit.choice(MAX_KINDS if pool == "Max" else AVG_KINDS)
        yield case(kit, pool, rank, attrs, kit.tensor(shape, kind), kind)


def curated(kit):
    t = lambda values: np.array(values, dtype=np.float32)  # noqa: E731
    # Overlapping windows: 5->3, 10->4, 8->3 and upsampling 3->5.
    for pool in ("Max", "Avg"):
        extra = {"return_indices": True} if pool == "Max" else {}
        yield case(kit, pool, 1, {"output_size": 3, **extra}, kit.tensor((1, 2, 5), "ints"))
        yield case(kit, pool, 1, {"output_size": 4, **extra}, kit.tensor((1, 2, 10)))
        yield case(kit, pool, 1, {"output_size": 3, **extra}, kit.tensor((2, 8)))
        yield case(kit, pool, 1, {"output_size": 5, **extra}, t([[[1, 2, 3]]]))
        yield case(kit, pool, 2, {"output_size": [2, 4], **extra}, np.arange(30, dtype=np.float32).reshape(1, 1, 5, 6))
        yield case(kit, pool, 2, {"output_size": [7, 1], **extra}, kit.tensor((2, 3, 3, 4)))
        yield case(kit, pool, 3, {"output_size": [4, None, 1], **extra}, kit.tensor((1, 2, 3, 5, 4)))
        yield case(kit, pool, 3, {"output_size": [None, None, None], **extra}, kit.tensor((2, 3, 4)))
        # test_pooling's "None sizes keep the input size" on 4^(n+1).
        for rank in (2, 3):
            x = np.arange(4 ** (rank + 1), dtype=np.float32).reshape((1, 4) + (4,) * rank)
            yield case(kit, pool, rank, {"output_size": [2] + [None] * (rank - 1), **extra}, x)
        for rank in (1, 2, 3):
            yield case(kit, pool, rank, {"output_size": 2, **extra}, np.zeros((0, 2) + (5,) * rank, np.float32))
    # NaN and -inf in adaptive max: the last NaN's index; all -inf gives the first cell.
    for rank in (1, 2, 3):
        yield case(kit, "Max", rank, {"output_size": 1, "return_indices": True}, np.full((1, 1) + (3,) * rank, np.nan, np.float32))
        yield case(kit, "Max", rank, {"output_size": 2, "return_indices": True}, np.full((1, 1) + (3,) * rank, -np.inf, np.float32))
    # test_pooling's index test: AdaptiveMaxPoolNd(2) on arange(1, 4^(d+1)+1).
    for rank in (1, 2, 3):
        x = np.arange(1, 4 ** (rank + 1) + 1, dtype=np.float32).reshape((2, 2) + (4,) * rank)
        yield case(kit, "Max", rank, {"output_size": 2, "return_indices": True}, x)
    # output_size 0: an empty output forward; torch's backward raises.
    for pool in ("Max", "Avg"):
        yield case(kit, pool, 2, {"output_size": [0, 3]}, kit.tensor((1, 2, 4, 4)), backward=False)
        yield case(kit, pool, 2, {"output_size": 0}, kit.tensor((1, 2, 4, 4)))


def module_tests(kit):
    """PyTorch's new_module_tests (spec 12.1) and OpInfo samples (12.2)."""
    for pool in ("Max", "Avg"):
        for shape in ((1, 3, 5), (3, 5)):
            yield case(kit, pool, 1, {"output_size": 3}, kit.tensor(shape))
    yield case(kit, "Avg", 1, {"output_size": 1}, kit.tensor((1, 3, 5)))
    for size in (3, [3, 4], [3, None]):
        for pool in ("Max", "Avg"):
            yield case(kit, pool, 2, {"output_size": size}, kit.tensor((1, 3, 5, 6)))
    yield case(kit, "Avg", 2, {"output_size": 1}, kit.tensor((1, 3, 5, 6)))
    for pool in ("Max", "Avg"):
        yield case(kit, pool, 2, {"output_size": 3}, kit.tensor((3, 5, 6)))
    for size, shape in ((3, (2, 3, 5, 6, 7)), ([3, 4, 5], (2, 3, 5, 6, 7)), ([3, None, 5], (2, 3, 5, 6, 7)), (3, (3, 5, 6, 7)),
                        (3, (2, 3, 12, 9, 3)), ([3, 4, 5], (2, 3, 6, 4, 10))):
        yield case(kit, "Max", 3, {"output_size": size}, kit.tensor(shape))
    for size, shape in ((3, (2, 3, 5, 2, 7)), (3, (3, 5, 2, 7)), ([3, 4, 5], (2, 3, 5, 3, 7)), ([None, 4, 5], (2, 3, 5, 3, 7)),
                        ([3, 2, 2], (1, 1, 3, 2, 6))):
        yield case(kit, "Avg", 3, {"output_size": size}, kit.tensor(shape))
    # OpInfo adaptive_avg_pool*, each also unbatched.
    for rank, shape, size in [(1, (0, 8, 8), [5]), (1, (3, 8, 8), 5), (1, (3, 8, 8), 1),
                              (2, (1, 8, 8, 8), [5, 7]), (2, (2, 8, 8, 8), [None, 7]), (2, (1, 8, 4, 3), [5, None]),
                              (2, (1, 8, 4, 3), [None, None]), (2, (1, 8, 4, 3), 5),
                              (3, (0, 8, 8, 8, 8), [5, 7, 4]), (3, (1, 8, 4, 3, 7), [None, None, None]), (3, (1, 8, 4, 3, 7), [1, 1, 1]),
                              (3, (3, 3, 8, 8, 6), [5, 7, None]), (3, (1, 3, 8, 8, 6), [5, None, 2]), (3, (3, 3, 8, 8, 6), [None, 3, 2])]:
        yield case(kit, "Avg", rank, {"output_size": size}, kit.tensor(shape))
        if shape[0] > 0:
            yield case(kit, "Avg", rank, {"output_size": size}, kit.tensor(shape[1:]))
    # OpInfo adaptive_max_pool*, with and without indices, batched and unbatched.
    for rank, shape, size in [(1, (3, 4, 4), 3), (1, (3, 4, 4), 1),
                              (2, (1, 4, 4, 4), [2, 3]), (2, (2, 4, 4, 4), [None, 3]), (2, (2, 4, 4, 4), [1, 1]),
                              (2, (1, 4, 4, 3), [3, None]), (2, (1, 4, 4, 3), [None, None]), (2, (1, 4, 4, 3), 3),
                              (3, (1, 4, 4, 3, 5), [None, None, None]), (3, (1, 4, 4, 3, 5), [1, 1, 1]), (3, (3, 3, 4, 4, 6), [2, 3, None]),
                              (3, (1, 3, 4, 4, 6), [3, None, 2]), (3, (3, 3, 4, 4, 6), [None, 3, 2])]:
        for indices in (False, True):
            attrs = {"output_size": size, "return_indices": indices}
            yield case(kit, "Max", rank, attrs, kit.tensor(shape, "ints"))
            yield case(kit, "Max", rank, attrs, kit.tensor(shape[1:]))


def errors(kit):
    for i in range(24):
        rank = kit.choice([1, 2, 3])
        pool = kit.choice(["Max", "Avg"])
        shape = kit.shape(rank, batch="batched", sizes=(2, 5))
        attrs = {"output_size": [kit.randint(1, 4) for _ in range(rank)]}
        flaw = i % 4
        if flaw == 0:  # a negative size
            attrs["output_size"][kit.randint(0, rank - 1)] = -kit.randint(1, 2)
        elif flaw == 1:  # wrong rank
            shape = kit.choice([shape[-rank:], (1,) + shape])
        elif flaw == 2:  # a zero channel or spatial size
            shape = list(shape)
            shape[kit.randint(1, len(shape) - 1)] = 0
            shape = tuple(shape)
            if pool == "Avg" and rank == 1:
                yield case(kit, pool, rank, attrs, kit.tensor(shape), expect_error=EMPTY_1D)
                continue
        else:  # a list of the wrong length (one entry is refused too, except in 1d)
            if rank == 1:
                attrs["output_size"] = [2, 2]
            else:
                attrs["output_size"] = kit.choice([[2], [2] * (rank + 1), [2] * (rank - 1)])
        yield case(kit, pool, rank, attrs, kit.tensor(shape))
    # test_pooling: AdaptiveMaxPool1d(2^62 - 1) must raise, not allocate.
    yield case(kit, "Max", 1, {"output_size": 2**62 - 1}, kit.tensor((1, 3, 5)))
    yield case(kit, "Avg", 2, {"output_size": [2**40, 2**40]}, kit.tensor((1, 3, 5, 5)))
    # output_size=None is a TypeError in 1.13's AdaptiveAvgPool1d/2d.
    yield case(kit, "Avg", 1, {"output_size": None}, kit.tensor((1, 2, 5)))
    yield case(kit, "Avg", 2, {"output_size": None}, kit.tensor((1, 2, 5, 5)))


def lanes(kit):
    """16 planes and more: mininn computes whole groups of 16 planes in one
    vector and the planes left over one by one, so these shapes have both;
    the benchmark's shapes at a smaller batch; a global average; a plane too
    large for the vectors' scratch (the plain loops again)."""
    for kind in ("normal", "nan"):
        yield case(kit, "Avg", 2, {"output_size": [7, 7]}, kit.tensor((1, 35, 20, 20), kind), kind)
    for kind in ("normal", "ints", "nan", "neginf", "special"):
        yield case(kit, "Max", 2, {"output_size": [5, 5], "return_indices": True}, kit.tensor((2, 17, 32, 32), kind), kind)
    yield case(kit, "Max", 2, {"output_size": [5, 5]}, kit.tensor((1, 16, 32, 32)))
    yield case(kit, "Avg", 2, {"output_size": 1}, kit.tensor((2, 40, 7, 7)))
    yield case(kit, "Avg", 3, {"output_size": 1}, kit.tensor((2, 9, 4, 3, 5), "nan"), "nan")
    yield case(kit, "Avg", 1, {"output_size": 1}, kit.tensor((1, 33, 50)))
    yield case(kit, "Avg", 1, {"output_size": 3}, kit.tensor((3, 16, 10)))
    yield case(kit, "Max", 1, {"output_size": 13, "return_indices": True}, kit.tensor((1, 20, 9), "ints"), "ints")
    yield case(kit, "Avg", 2, {"output_size": [9, 4]}, kit.tensor((18, 5, 7)))  # unbatched, upsampling rows
    yield case(kit, "Max", 3, {"output_size": [2, 3, 2], "return_indices": True}, kit.tensor((1, 18, 3, 5, 4), "special"), "special")
    yield case(kit, "Avg", 3, {"output_size": [3, 2, 4]}, kit.tensor((2, 16, 4, 3, 5)))
    yield case(kit, "Max", 2, {"output_size": [3, 5], "return_indices": True}, kit.tensor((1, 16, 1, 1), "allnan"), "allnan")
    yield case(kit, "Max", 2, {"output_size": 2, "return_indices": True}, kit.tensor((1, 17, 3, 3), "allneginf"), "allneginf")
    yield case(kit, "Avg", 2, {"output_size": [7, 6]}, kit.tensor((1, 16, 91, 91)))
    yield case(kit, "Max", 2, {"output_size": [7, 6], "return_indices": True}, kit.tensor((1, 16, 91, 91)))


def cases(kit):
    yield from curated(kit)
    yield from module_tests(kit)
    yield from random_cases(kit, 260)
    yield from errors(kit)
    yield from lanes(kit)
