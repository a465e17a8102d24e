"""FractionalMaxPool2d/3d: output_size and output_ratio, given samples
(edge values 0, just below 1 and 1 included) and samples drawn from the
model seed, zero batch, unbatched input, output size 0, ties, NaN and -inf;
PyTorch's own test configurations; invalid configurations.

The torch side runs in float32, as mininn does: the window starts depend on
alpha computed in the input's dtype, so a float64 reference could place a
window differently. Max pooling only selects values, so float32 is exact.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from casekit import describe, expand, torch_kwargs

KINDS = ["separated"] * 6 + ["normal"] * 4 + ["ints"] * 4 + ["nan", "neginf", "special", "allnan", "allneginf"]


def model(op: str, attrs: dict, x_shape, samples, seed: int) -> dict:
    inputs = [{"name": "input", "shape": list(x_shape)}]
    names = ["input"]
    if samples is not None:
        entry = {"name": "samples", "shape": list(samples.shape)}
        if samples.dtype == np.int64:
            entry["dtype"] = "int64"
        else:
            entry["requires_grad"] = False
        inputs.append(entry)
        names.append("samples")
    outputs = ["output", "indices"] if attrs.get("return_indices") else ["output"]
    return {
        "format": "mininn/1",
        "seed": seed,
        "inputs": inputs,
        "nodes": [{"name": "node", "op": op, "inputs": names, "outputs": outputs, "attrs": attrs}],
        "outputs": outputs,
    }


def case(kit, rank: int, attrs: dict, x, samples=None, *, seed: int = 0, kind: str | None = None, about: str | None = None,
         expect_error: str | None = None, error_stage: str = "load"):
    """x and samples are numpy arrays; samples None means: drawn from `seed`
    (the torch side calls torch.manual_seed(seed) and lets the module draw)."""
    op = f"FractionalMaxPool{rank}d"
    shapes = [x.shape] + ([samples.shape] if samples is not None else [])
    text = about or describe(op, attrs, shapes) + (f", {kind} values" if kind else "") + \
        (f", samples drawn from seed {seed}" if samples is None else "")

    def build():
        return {"node": getattr(nn, op)(**torch_kwargs(attrs))}

    def forward(t, modules):
        module = modules["node"]
        x32 = t["input"].float()
        if samples is None:
            torch.manual_seed(seed)
            module._random_samples = None
        else:
            u = t["samples"]
            module._random_samples = u.float() if u.is_floating_point() else u
        out = module(x32)
        if isinstance(out, tuple):
            return {"output": out[0], "indices": out[1]}
        return {"output": out}

    inputs = {"input": x}
    if samples is not None:
        inputs["samples"] = samples
    return kit.graph_case(text, model(op, attrs, x.shape, samples, seed), inputs, build, forward,
                          compare={"output": "exact"}, error_stage=error_stage, expect_error=expect_error)


def samples_for(kit, shape: tuple, rank: int, extra_batch: bool = False) -> np.ndarray:
    batch = shape[0] if len(shape) == rank + 2 else 1
    if extra_batch:
        batch += kit.randint(1, 2)
    return kit.rng.random((batch, shape[-rank - 1], rank)).astype(np.float32)


def fits(rank: int, kernel: list, out: list, spatial: tuple) -> bool:
    """PyTorch's check: out + k - 1 <= in in 2d, strictly < in in 3d."""
    strict = rank == 3
    return all((o + k - 1 < i) if strict else (o + k - 1 <= i) for o, k, i in zip(out, kernel, spatial))


def random_cases(kit, count: int):
    made = 0
    while made < count:
        rank = kit.choice([2, 2, 3])
        shape = kit.shape(rank, sizes=(3, 11) if rank == 2 else (3, 7))
        spatial = shape[-rank:]
        attrs = {"kernel_size": kit.per_dim(rank, 1, 3)}
        k = expand(attrs["kernel_size"], rank)
        if kit.coin(0.6):
            room = [i - ki + (0 if rank == 3 else 1) for i, ki in zip(spatial, k)]  # the largest fitting output
            if min(room) < 1:
                continue
            out = [kit.randint(1, r) for r in room]
            attrs["output_size"] = out[0] if kit.coin(0.3) and len(set(room)) == 1 else out
        else:
            ratio = [round(float(kit.rng.uniform(0.15, 0.95)), 2) for _ in range(rank)]
            attrs["output_ratio"] = ratio[0] if kit.coin(0.3) else ratio
            out = [int(i * r) for i, r in zip(spatial, expand(attrs["output_ratio"], rank))]
            if not fits(rank, k, out, spatial) or min(out) < 1:
                continue
        if kit.coin(0.6):
            attrs["return_indices"] = True
        kind = kit.choice(KINDS)
        x = kit.tensor(shape, kind)
        if kit.coin(0.7):
            yield case(kit, rank, attrs, x, samples_for(kit, shape, rank, extra_batch=kit.coin(0.1)), kind=kind)
        else:
            yield case(kit, rank, attrs, x, seed=kit.randint(0, 10_000), kind=kind)
        made += 1


def curated(kit):
    # Which sample drives which axis: the windows differ for each order.
    x2 = np.arange(13 * 13, dtype=np.float32).reshape(1, 1, 13, 13)
    for u in ([0.1, 0.9], [0.9, 0.1]):
        yield case(kit, 2, {"kernel_size": 2, "output_size": 4, "return_indices": True}, x2, np.array([[u]], np.float32))
    x3 = np.arange(13 ** 3, dtype=np.float32).reshape(1, 1, 13, 13, 13)
    for u in ([0.1, 0.5, 0.9], [0.9, 0.1, 0.5], [0.5, 0.9, 0.1]):
        yield case(kit, 3, {"kernel_size": 2, "output_size": 4, "return_indices": True}, x3, np.array([[u]], np.float32))
    # Edge samples: 0, the largest float32 below 1, and 1 itself (accepted:
    # it keeps every window inside the input), on irregular alphas.
    below_one = np.nextafter(np.float32(1), np.float32(0))
    for u in (0.0, below_one, 1.0, 0.5, 1e-30):
        for rank, shape, attrs in ((2, (2, 3, 23, 17), {"kernel_size": [3, 2], "output_size": [7, 9]}),
                                   (3, (1, 2, 11, 13, 9), {"kernel_size": [2, 3, 1], "output_size": [5, 4, 7]})):
            samples = np.full((shape[0], shape[1], rank), u, np.float32)
            yield case(kit, rank, {**attrs, "return_indices": True}, kit.tensor(shape, "separated"), samples)
    # One output: the last window, flush with the end; full-size outputs.
    yield case(kit, 2, {"kernel_size": 2, "output_size": 1, "return_indices": True},
               np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5), np.array([[[0.3, 0.6]]], np.float32))
    yield case(kit, 2, {"kernel_size": 1, "output_size": [5, 6], "return_indices": True}, kit.tensor((1, 2, 5, 6)),
               samples_for(kit, (1, 2, 5, 6), 2))
    yield case(kit, 3, {"kernel_size": 1, "output_size": [4, 5, 6]}, kit.tensor((1, 2, 5, 6, 7)), samples_for(kit, (1, 2, 5, 6, 7), 3))
    # Ties keep the first maximum, the last NaN wins, -inf windows report their first cell.
    nan, inf = np.nan, np.inf
    tricky = np.array([[[[3, 3, 1, nan], [3, 3, nan, 5], [-inf, -inf, nan, 2], [-inf, -inf, 7, nan]]]], np.float32)
    yield case(kit, 2, {"kernel_size": 2, "output_size": 2, "return_indices": True}, tricky, np.array([[[0.25, 0.75]]], np.float32))
    for kind in ("ints", "allnan", "allneginf", "special"):
        yield case(kit, 2, {"kernel_size": 3, "output_size": [4, 5], "return_indices": True}, kit.tensor((2, 2, 7, 8), kind),
                   samples_for(kit, (2, 2, 7, 8), 2), kind=kind)
        yield case(kit, 3, {"kernel_size": 2, "output_ratio": 0.5}, kit.tensor((1, 2, 5, 6, 7), kind),
                   samples_for(kit, (1, 2, 5, 6, 7), 3), kind=kind)
    # Overlapping windows accumulate gradients.
    yield case(kit, 2, {"kernel_size": 3, "output_size": [6, 7]}, kit.tensor((1, 2, 8, 9), "separated"), samples_for(kit, (1, 2, 8, 9), 2))
    # output_ratio truncates: 9x11 at 0.5 is 4x5.
    yield case(kit, 2, {"kernel_size": 2, "output_ratio": 0.5, "return_indices": True}, kit.tensor((1, 3, 9, 11)), seed=5)
    yield case(kit, 3, {"kernel_size": [1, 2, 1], "output_ratio": [0.5, 0.7, 0.3]}, kit.tensor((1, 1, 9, 11, 13)), seed=6)
    # Output size 0 gives empty outputs and a zero gradient.
    yield case(kit, 2, {"kernel_size": 2, "output_size": [0, 3], "return_indices": True}, kit.tensor((1, 2, 5, 5)),
               samples_for(kit, (1, 2, 5, 5), 2))
    yield case(kit, 2, {"kernel_size": 1, "output_ratio": 0.1}, kit.tensor((1, 1, 5, 5)), seed=2)
    yield case(kit, 3, {"kernel_size": 2, "output_size": [2, 0, 2]}, kit.tensor((1, 1, 6, 7, 8)), samples_for(kit, (1, 1, 6, 7, 8), 3))
    # Zero batch (samples for no plane, or more samples than planes) and unbatched input.
    for rank, shape in ((2, (0, 2, 6, 7)), (3, (0, 1, 4, 5, 4))):
        attrs = {"kernel_size": 2, "output_size": 2, "return_indices": True}
        yield case(kit, rank, attrs, np.zeros(shape, np.float32), seed=3)
        yield case(kit, rank, attrs, np.zeros(shape, np.float32), np.zeros((1, shape[1], rank), np.float32))
    for rank, shape in ((2, (3, 7, 6)), (3, (2, 5, 6, 7))):
        attrs = {"kernel_size": 2, "output_size": 3, "return_indices": True}
        yield case(kit, rank, attrs, kit.tensor(shape, "separated"), samples_for(kit, shape, rank))
        yield case(kit, rank, attrs, kit.tensor(shape, "separated"), seed=11)
    # Samples with a larger batch than the input: the first rows are used.
    yield case(kit, 2, {"kernel_size": 2, "output_size": [3, 4]}, kit.tensor((2, 2, 7, 8)), samples_for(kit, (2, 2, 7, 8), 2, True))


def module_tests(kit):
    """PyTorch's new_module_tests (spec 12.1) and the OpInfo grids (12.2)."""
    samples2 = kit.rng.random((1, 3, 2)).astype(np.float32)
    for shape in ((1, 3, 5, 7), (3, 5, 7)):
        for ri in (False, True):
            yield case(kit, 2, {"kernel_size": 2, "output_ratio": 0.5, "return_indices": ri}, kit.tensor(shape), samples2)
        yield case(kit, 2, {"kernel_size": 2, "output_ratio": 0.5}, kit.tensor(shape), seed=1)
    for shape in ((1, 3, 7, 6), (3, 7, 6)):
        yield case(kit, 2, {"kernel_size": [2, 3], "output_size": [4, 3]}, kit.tensor(shape), samples2)
        yield case(kit, 2, {"kernel_size": [2, 3], "output_size": [4, 3]}, kit.tensor(shape), seed=1)
    samples3 = kit.rng.random((2, 4, 3)).astype(np.float32)
    for shape in ((2, 4, 5, 5, 5), (4, 5, 5, 5)):
        yield case(kit, 3, {"kernel_size": 2, "output_ratio": 0.5}, kit.tensor(shape), samples3)
    for shape in ((2, 4, 7, 7, 7), (4, 7, 7, 7)):
        yield case(kit, 3, {"kernel_size": [2, 2, 2], "output_size": [4, 4, 4]}, kit.tensor(shape), samples3)
    yield case(kit, 3, {"kernel_size": [4, 2, 3], "output_size": [10, 3, 2]}, kit.tensor((2, 4, 16, 7, 5)), samples3)
    yield case(kit, 3, {"kernel_size": 2, "output_size": [4, 4, 4]}, kit.tensor((2, 4, 7, 7, 7)), seed=2)

    grids = [
        (2, [((1, 3, 9, 9), 3), ((1, 3, 9, 9), [4, 4]), ((1, 3, 9, 9), [6, 6]), ((2, 3, 9, 9), [3, 3]),
             ((1, 1, 4, 4), [2, 2]), ((1, 2, 6, 6), [4, 4])], [2, [2, 3], [0.5, 0.5]]),
        (3, [((2, 3, 5, 5, 5), 2), ((1, 2, 6, 5, 4), 2), ((1, 2, 5, 6, 5), [2, 3, 2]), ((1, 2, 6, 6, 6), [2, 3, 2]),
             ((1, 1, 7, 6, 7), [2, 3, 4]), ((1, 1, 4, 5, 4), [2, 2, 1]), ((1, 1, 8, 7, 6), [4, 3, 2]),
             ((0, 1, 4, 5, 4), [2, 2, 1])], [2, [2, 3, 2], 0.5]),
    ]
    for rank, shapes, sizes in grids:
        for shape, kernel in shapes:
            for size in sizes:
                key = "output_ratio" if isinstance(size, float) or (isinstance(size, list) and isinstance(size[0], float)) else "output_size"
                ri = kit.coin()
                yield case(kit, rank, {"kernel_size": kernel, key: size, "return_indices": ri}, kit.tensor(shape), seed=kit.randint(0, 99))


DEVIATION_SHAPE = ("(no PyTorch error: torch 1.13 does not check _random_samples' shape and reads out of bounds; "
                   "mininn checks it as current PyTorch does, as documented)")
DEVIATION_VALUE = ("(no PyTorch error: torch 1.13 computes windows from samples outside [0, 1), NaN and inf "
                   "being undefined behaviour; mininn refuses samples outside [0, 1], as documented)")
DEVIATION_KERNEL = ("(no PyTorch error: torch 1.13 accepts kernel_size 0 and outputs -inf with indices outside the "
                    "window; mininn refuses it as current PyTorch does, as documented)")


def errors(kit):
    x2, x3 = kit.tensor((1, 2, 5, 5)), kit.tensor((1, 2, 5, 6, 7))
    u2, u3 = samples_for(kit, x2.shape, 2), samples_for(kit, x3.shape, 3)
    # Constructor checks (torch raises ValueError).
    yield case(kit, 2, {"kernel_size": 2}, x2, u2)
    yield case(kit, 3, {"kernel_size": 2}, x3, u3)
    yield case(kit, 2, {"kernel_size": 2, "output_size": 3, "output_ratio": 0.5}, x2, u2)
    for ratio in (1.0, 0, [0.5, 1.5], -0.5):
        yield case(kit, 2, {"kernel_size": 2, "output_ratio": ratio}, x2, u2)
    yield case(kit, 3, {"kernel_size": 2, "output_ratio": [0.5, 0.5, 1.0]}, x3, u3)
    # Windows that do not fit: height before width in 2d; in 3d strictly
    # smaller than the input, checked time, width, height.
    yield case(kit, 2, {"kernel_size": 3, "output_size": [4, 3]}, x2, u2)
    yield case(kit, 2, {"kernel_size": 3, "output_size": [3, 4]}, x2, u2)
    yield case(kit, 2, {"kernel_size": 3, "output_ratio": 0.9}, kit.tensor((1, 1, 10, 10)), seed=1)
    yield case(kit, 3, {"kernel_size": 1, "output_size": [5, 6, 7]}, x3, u3)  # fits in 2d terms, not in 3d
    yield case(kit, 3, {"kernel_size": 1, "output_size": [4, 6, 6]}, x3, u3)
    yield case(kit, 3, {"kernel_size": 1, "output_size": [4, 5, 7]}, x3, u3)
    yield case(kit, 3, {"kernel_size": [2, 3, 2], "output_size": [3, 4, 6]}, x3, u3)
    # Input rank and sizes.
    yield case(kit, 2, {"kernel_size": 2, "output_size": 2}, kit.tensor((5, 5)), seed=1)
    yield case(kit, 2, {"kernel_size": 2, "output_size": 2}, kit.tensor((1, 1, 1, 5, 5)), seed=1)
    yield case(kit, 3, {"kernel_size": 2, "output_size": 2}, kit.tensor((1, 5, 5)), seed=1)
    yield case(kit, 2, {"kernel_size": 2, "output_size": 2}, np.zeros((1, 0, 5, 5), np.float32), seed=1)
    # Unbatched, torch checks the sizes after the first: zero channels give an empty output.
    yield case(kit, 2, {"kernel_size": 2, "output_size": 2}, np.zeros((0, 5, 5), np.float32), seed=1)
    yield case(kit, 3, {"kernel_size": 2, "output_size": 2}, np.zeros((1, 1, 0, 5, 5), np.float32), seed=1)
    # Samples of another dtype (torch: "expected scalar type Float but found Long").
    yield case(kit, 2, {"kernel_size": 2, "output_size": 2}, x2, np.zeros((1, 2, 2), np.int64))
    # Samples of the wrong shape: 1.13 reads them unchecked.
    for bad in ((1, 1, 2), (1, 2, 3), (1, 2), (2, 2, 2, 1)):
        yield case(kit, 2, {"kernel_size": 2, "output_size": 2}, x2, np.full(bad, 0.5, np.float32), expect_error=DEVIATION_SHAPE)
    yield case(kit, 2, {"kernel_size": 2, "output_size": 2}, kit.tensor((2, 2, 5, 5)), np.full((1, 2, 2), 0.5, np.float32),
               expect_error=DEVIATION_SHAPE)
    yield case(kit, 3, {"kernel_size": 2, "output_size": 2}, x3, np.full((1, 2, 2), 0.5, np.float32), expect_error=DEVIATION_SHAPE)
    # Sample values outside [0, 1]: found when the pass runs.
    for value in (-0.25, 1.5, 100.0, np.nan, np.inf):
        samples = u2.copy()
        samples[0, 1, 1] = value
        yield case(kit, 2, {"kernel_size": 2, "output_size": 3}, x2, samples, expect_error=DEVIATION_VALUE, error_stage="run")
    # A zero kernel.
    yield case(kit, 2, {"kernel_size": 0, "output_size": 2}, x2, u2, expect_error=DEVIATION_KERNEL)
    yield case(kit, 3, {"kernel_size": [2, 0, 2], "output_size": 2}, x3, u3, expect_error=DEVIATION_KERNEL)


def cases(kit):
    yield from curated(kit)
    yield from module_tests(kit)
    yield from random_cases(kit, 130)
    yield from errors(kit)
