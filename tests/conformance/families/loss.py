"""CrossEntropyLoss (int64 class targets: (N, C) and (N, C, d...);
reductions; ignore_index; label_smoothing; out-of-range targets) and MSELoss
(reductions; gradients for input and target)."""

from __future__ import annotations

import numpy as np


def targets(kit, shape, classes, ignore=None):
    t = kit.rng.integers(0, classes, shape).astype(np.int64)
    if ignore is not None:
        t[kit.rng.random(shape) < 0.3] = ignore
    return t


def cases(kit):
    for _ in range(40):
        classes = kit.randint(1, 6)
        layout = kit.choice(["batch", "batch", "spatial"])  # unbatched needs a 0-d target input, which models cannot declare
        n = kit.randint(1, 5)
        if layout == "batch":
            x_shape, t_shape = (n, classes), (n,)
        else:
            d = tuple(kit.randint(1, 3) for _ in range(kit.randint(1, 2)))
            x_shape, t_shape = (n, classes, *d), (n, *d)
        attrs = {"reduction": kit.choice(["mean", "sum", "none"])}
        ignore = None
        if kit.coin(0.3):
            ignore = kit.choice([-100, 0])
            if ignore != -100 or kit.coin():
                attrs["ignore_index"] = ignore
        if kit.coin(0.3):
            attrs["label_smoothing"] = kit.choice([0.1, 0.25, 1.0])
        t = targets(kit, t_shape, classes, ignore)
        if attrs["reduction"] == "mean" and ignore is not None and (t == ignore).all():
            t.flat[0] = 0 if ignore != 0 else min(1, classes - 1)
            if (t == ignore).all():
                continue
        yield kit.op_case("CrossEntropyLoss", attrs, [kit.tensor(x_shape) * 3, t])
    yield kit.op_case("CrossEntropyLoss", {}, [kit.tensor((64, 10)) * 5, targets(kit, (64,), 10)])
    # Errors: a target out of range (when running), mismatched shapes and float targets (when loading).
    yield kit.op_case("CrossEntropyLoss", {}, [kit.tensor((3, 4)), np.array([0, 4, 1], dtype=np.int64)], error_stage="run")
    yield kit.op_case("CrossEntropyLoss", {}, [kit.tensor((3, 4)), np.array([0, -1, 1], dtype=np.int64)], error_stage="run")
    yield kit.op_case("CrossEntropyLoss", {}, [kit.tensor((3, 4)), np.array([0, 1], dtype=np.int64)])
    yield kit.op_case("CrossEntropyLoss", {"label_smoothing": 1.5}, [kit.tensor((3, 4)), np.array([0, 1, 2], dtype=np.int64)])
    yield kit.op_case("CrossEntropyLoss", {}, [kit.tensor((3, 4)), kit.tensor((3, 4))],
                      expect_error="(mininn takes int64 class indices only; torch also takes class probabilities)")

    for _ in range(20):
        shape = tuple(kit.randint(1, 4) for _ in range(kit.randint(1, 4)))
        attrs = {"reduction": kit.choice(["mean", "sum", "none"])}
        yield kit.op_case("MSELoss", attrs, [kit.tensor(shape), kit.tensor(shape)])
    yield kit.op_case("MSELoss", {}, [kit.tensor((2, 3)), kit.tensor((3,))],
                      expect_error="(mininn refuses targets of another shape; torch warns and broadcasts)")
