"""MaxUnpool1d/2d/3d: the indices of real MaxPools (with and without
output_size, in both its N and N+2 forms), random and duplicate indices,
PyTorch's index and output_size checks."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from casekit import describe, expand

from .max_pool import window_status


EMPTY_OUTPUT = (
    "(no PyTorch error in forward: torch 1.13 unpools to the default size (in-1)*stride + kernel - 2*padding "
    "even when it is 0, returns an empty tensor without checking the indices against it, and only its backward "
    "fails ('index 0 is out of bounds for dimension 2 with size 0'); mininn refuses the empty output size)"
)


def stage(message: str) -> str:
    """Only the index range check depends on values; the rest is shapes and attrs."""
    return "run" if "invalid max index" in message else "load"


def case(kit, rank, attrs, values, indices, **kw):
    op = f"MaxUnpool{rank}d"
    about = kw.pop("about", None) or describe(op, attrs, [values.shape])
    kw.setdefault("error_stage", stage)
    return kit.op_case(op, attrs, [values, indices], about=about, **kw)


def max_pool(x: np.ndarray, rank: int, kernel, stride, padding):
    """torch's MaxPoolNd with indices on float32 x: (values, int64 indices)."""
    fn = getattr(F, f"max_pool{rank}d")
    values, indices = fn(torch.from_numpy(x), kernel, stride, padding, return_indices=True)
    return values.numpy().copy(), indices.numpy().copy()


def pipeline(kit, rank, shape, attrs, kind="normal", size_form=None, about_extra=""):
    """Pools x with MaxPoolNd(attrs), then unpools with the same window."""
    x = kit.tensor(shape, kind)
    kernel, stride, padding = attrs["kernel_size"], attrs.get("stride") or attrs["kernel_size"], attrs.get("padding", 0)
    values, indices = max_pool(x, rank, kernel, stride, padding)
    unpool = dict(attrs)
    spatial = list(shape[-rank:])
    if size_form == "spatial":
        unpool["output_size"] = spatial
    elif size_form == "full":
        unpool["output_size"] = list(shape) if len(shape) == rank + 2 else [1] + list(shape)
    about = describe(f"MaxUnpool{rank}d", unpool, [values.shape]) + f" of MaxPool{rank}d's indices on {tuple(shape)}{about_extra}"
    default = [(n - 1) * s + k - 2 * p for n, k, s, p in
               zip(values.shape[-rank:], expand(kernel, rank), expand(stride, rank), expand(padding, rank))]
    empty = size_form is None and min(default) <= 0
    return case(kit, rank, unpool, values, indices, about=about, expect_error=EMPTY_OUTPUT if empty else None)


def random_pipelines(kit, count: int):
    made = 0
    while made < count:
        rank = kit.choice([1, 2, 2, 3])
        attrs = {"kernel_size": kit.per_dim(rank, 1, 3)}
        k = expand(attrs["kernel_size"], rank)
        if kit.coin(0.6):
            attrs["stride"] = kit.per_dim(rank, 1, 4)
        if kit.coin(0.4):
            attrs["padding"] = [kit.randint(0, ki // 2) for ki in k]
        shape = kit.shape(rank)
        if window_status(attrs, shape[-rank:], dilation=False) != "ok":
            continue
        form = kit.choice([None, "spatial", "spatial", "full"])
        yield pipeline(kit, rank, shape, attrs, kit.choice(["normal", "ints", "ints"]), form)
        made += 1


def random_indices(kit, count: int):
    """Indices that no pool produced: duplicates (the last write wins; the
    backward gathers for every duplicate) and, now and then, out of range."""
    for i in range(count):
        rank = kit.choice([1, 2, 3])
        shape = kit.shape(rank, sizes=(1, 4))
        attrs = {"kernel_size": kit.per_dim(rank, 1, 3)}
        if kit.coin(0.5):
            attrs["stride"] = kit.per_dim(rank, 1, 3)
        k = expand(attrs["kernel_size"], rank)
        s = expand(attrs.get("stride") or attrs["kernel_size"], rank)
        out = [(n - 1) * si + ki for n, si, ki in zip(shape[-rank:], s, k)]
        plane = int(np.prod(out))
        indices = kit.rng.integers(0, max(1, min(plane, 4)) if kit.coin(0.4) else plane, shape).astype(np.int64)
        if i % 6 == 5:  # one index out of range: an error only when running
            flat = indices.reshape(-1)
            if flat.size:
                flat[kit.randint(0, flat.size - 1)] = kit.choice([-1, plane, plane + 7])
        yield case(kit, rank, attrs, kit.tensor(shape), indices, error_stage=stage)


def curated(kit):
    t = lambda values: np.array(values, dtype=np.float32)  # noqa: E731
    i64 = lambda values: np.array(values, dtype=np.int64)  # noqa: E731
    # Spec section 11: MaxPool2d(2,2) of arange(1,26) as 5x5, unpooled to 5x5 and to the default 4x4.
    x = np.arange(1, 26, dtype=np.float32).reshape(1, 1, 5, 5)
    values, indices = max_pool(x, 2, 2, 2, 0)
    for size in ([5, 5], [1, 1, 5, 5], None):
        attrs = {"kernel_size": 2, "stride": 2, **({"output_size": size} if size else {})}
        yield case(kit, 2, attrs, values, indices, error_stage=stage)
    # Duplicates: the last write wins, the backward gathers.
    yield case(kit, 2, {"kernel_size": 2}, t([[[[1, 2], [3, 4]]]]), i64([[[[5, 5], [5, 0]]]]))
    x = t([[[[0, 1, 2], [3, 9, 4], [5, 6, 7]]]])
    values, indices = max_pool(x, 2, 2, 1, 0)
    yield case(kit, 2, {"kernel_size": 2, "stride": 1}, values, indices)
    # test_pooling's MaxUnpool2d_output_size: MaxPool2d(3, 2) on 5x5; sizes 4..6 pass, 3 and 7 do not.
    x = kit.tensor((1, 1, 5, 5))
    values, indices = max_pool(x, 2, 3, 2, 0)
    for h in (3, 4, 5, 6, 7):
        for w in (3, 5, 7):
            yield case(kit, 2, {"kernel_size": 3, "stride": 2, "output_size": [h, w]}, values, indices, error_stage=stage)
    # ... and on 6x6 with the maximum at [4][4], the default size (5x5) is too small.
    x = np.zeros((1, 1, 6, 6), np.float32)
    x[0, 0, 4, 4] = 1
    values, indices = max_pool(x, 2, 3, 2, 0)
    yield case(kit, 2, {"kernel_size": 3, "stride": 2}, values, indices, error_stage=stage)
    # Index range checks (test_pooling): the last valid index passes, one more fails.
    for rank, attrs, shape, bad, good in [
        (2, {"kernel_size": 2, "stride": 2}, (1, 3, 4, 5), (-1, 80), 79),
        (2, {"kernel_size": [2, 3]}, (2, 1, 4, 2), (48,), 47),
        (3, {"kernel_size": [2, 2, 2]}, (1, 3, 4, 5), (480,), 479),
        (3, {"kernel_size": [2, 2, 2]}, (2, 3, 4, 1), (96,), 95),
    ]:
        for value in bad + (good,):
            indices = np.zeros(shape, np.int64)
            indices.reshape(-1)[-1] = value
            yield case(kit, rank, attrs, kit.tensor(shape), indices, error_stage=stage)
    # Unbatched: output_size of length N+1 (the unbatched input's own size) is refused (#68337).
    x = kit.tensor((2, 4, 6))
    values, indices = max_pool(x, 2, 2, 2, 0)
    yield case(kit, 2, {"kernel_size": 2, "output_size": [2, 4, 6]}, values, indices)
    yield case(kit, 2, {"kernel_size": 2, "output_size": [4, 6]}, values, indices)
    yield case(kit, 2, {"kernel_size": 2, "output_size": [1, 2, 4, 6]}, values, indices)
    # After a dilated pool even the right output_size can be refused (#68420).
    x = kit.tensor((1, 1, 3, 6))
    v, ind = F.max_pool2d(torch.from_numpy(x), 2, 1, 0, (1, 2), return_indices=True)
    yield case(kit, 2, {"kernel_size": 2, "stride": 1, "output_size": [3, 6]}, v.numpy().copy(), ind.numpy().copy())
    # Zero batch, unbatched, every rank.
    for rank in (1, 2, 3):
        yield pipeline(kit, rank, (0, 2) + (4,) * rank, {"kernel_size": 2})
        yield pipeline(kit, rank, (2,) + (5,) * rank, {"kernel_size": 2, "stride": 2}, size_form="spatial")
        yield pipeline(kit, rank, (2, 2) + (5,) * rank, {"kernel_size": 3, "stride": 1, "padding": 1}, "ints", size_form="full")
    # PyTorch's OpInfo max_unpool grid: the max_pool samples with a batch, dilation 1, output_size = the input size.
    tuples = {1: ([3], [2], [1]), 2: ([3, 2], [2, 1], [1, 1]), 3: ([3, 2, 3], [2, 1, 2], None)}
    for rank in (1, 2, 3):
        kv, sv, pv = tuples[rank]
        for kernel in (3, kv):
            for stride in (2, None, sv):
                for padding in (0, 1) + ((pv,) if pv else ()):
                    spatial = (kit.choice([3, 6]),) + {1: (), 2: (6,), 3: (6, 5)}[rank]
                    attrs = {"kernel_size": kernel, "stride": stride, "padding": padding}
                    if window_status(attrs, spatial, dilation=False) == "ok":
                        yield pipeline(kit, rank, (kit.choice([1, 2]), 2) + spatial, attrs, size_form="spatial")


def errors(kit):
    x = kit.tensor((1, 2, 4, 4))
    values, indices = max_pool(x, 2, 2, 2, 0)
    yield case(kit, 2, {"kernel_size": 2}, values, indices[..., :1])  # shapes differ
    yield case(kit, 2, {"kernel_size": 2}, values, indices[:, :1])
    yield case(kit, 2, {"kernel_size": 2}, values, indices.astype(np.float32))  # float indices
    yield case(kit, 2, {"kernel_size": 2}, values[0, 0], indices[0, 0])  # rank 2 for MaxUnpool2d
    yield case(kit, 1, {"kernel_size": 2}, values, indices)  # rank 4 for MaxUnpool1d
    yield case(kit, 3, {"kernel_size": 2, "stride": 0}, kit.tensor((1, 1, 2, 2, 2)), np.zeros((1, 1, 2, 2, 2), np.int64))
    yield case(kit, 2, {"kernel_size": 2, "output_size": [4]}, values, indices)  # wrong length
    yield case(kit, 2, {"kernel_size": 2, "output_size": [4, 4, 4]}, values, indices)
    for i in range(12):  # output_size outside (default - stride, default + stride)
        rank = kit.choice([1, 2, 3])
        shape = kit.shape(rank, batch="batched", sizes=(2, 6))
        attrs = {"kernel_size": kit.per_dim(rank, 1, 3), "stride": kit.per_dim(rank, 1, 3)}
        k, s = expand(attrs["kernel_size"], rank), expand(attrs["stride"], rank)
        default = [(n - 1) * si + ki for n, si, ki in zip(shape[-rank:], s, k)]
        size = list(default)
        d = kit.randint(0, rank - 1)
        size[d] = default[d] + (s[d] if i % 2 else -s[d])
        attrs["output_size"] = size
        yield case(kit, rank, attrs, kit.tensor(shape), np.zeros(shape, np.int64))


def many_planes(kit):
    """Enough planes for the kernel to run them on two threads, and an index
    out of range in a late plane while a later plane has another: the first
    in memory order is the one reported."""
    yield pipeline(kit, 2, (4, 16, 14, 14), {"kernel_size": 2, "stride": 2})
    yield pipeline(kit, 2, (2, 17, 15, 13), {"kernel_size": 3, "stride": 2, "padding": 1}, "ints", size_form="spatial")
    yield pipeline(kit, 1, (3, 20, 64), {"kernel_size": 4, "stride": 3})
    yield pipeline(kit, 3, (1, 18, 6, 5, 7), {"kernel_size": 2, "stride": 2}, size_form="full")
    shape, plane = (2, 20, 7, 7), 14 * 14
    for bad in (plane, -1):
        indices = kit.rng.integers(0, plane, shape).astype(np.int64)
        indices[1, 3, 4, 5] = bad
        indices[1, 12, 0, 1] = plane + 3
        yield case(kit, 2, {"kernel_size": 2}, kit.tensor(shape), indices, error_stage=stage)


def cases(kit):
    yield from curated(kit)
    yield from random_pipelines(kit, 130)
    yield from random_indices(kit, 60)
    yield from errors(kit)
    yield from many_planes(kit)
