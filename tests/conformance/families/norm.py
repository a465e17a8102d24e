"""BatchNorm1d and BatchNorm2d in evaluation mode (running statistics given as buffers),
without running statistics (batch statistics always), without affine
parameters, and its errors. Training mode, with the running statistics'
update, is checked by tests/training (the runner here compiles for
evaluation)."""

from __future__ import annotations

import numpy as np
import torch.nn as nn

from casekit import describe, float32


def batch_norm_case(kit, attrs, shape, op="BatchNorm2d"):
    x = kit.tensor(shape) * 2 + 0.5
    channels = attrs["num_features"]
    params = {}
    if attrs.get("affine", True):
        params["weight"] = kit.tensor((channels,)) + 1
        params["bias"] = kit.tensor((channels,))
    if attrs.get("track_running_stats", True):
        params["running_mean"] = kit.tensor((channels,))
        params["running_var"] = float32(kit.rng.uniform(0.2, 3.0, channels))
    model = {"format": "mininn/1", "inputs": [{"name": "input", "shape": list(shape)}],
             "nodes": [{"name": "node", "op": op, "inputs": ["input"], "outputs": ["output"], "attrs": attrs}],
             "outputs": ["output"]}

    def build():
        module = getattr(nn, op)(**attrs)
        for name, value in params.items():
            getattr(module, name).data = torch_from(value)
        module.eval()
        return {"node": module}

    case = kit.graph_case(describe(op, attrs, [shape]) + " (eval)", model, {"input": x}, build,
                          lambda t, m: {"output": m["node"](t["input"])})
    for name in ("running_mean", "running_var"):
        if name in params:  # buffers: _attach_params writes only the trainable parameters
            file = f"param_node.{name}.npy"
            case.files[file] = params[name]
            case.model["nodes"][0].setdefault("params", {})[name] = {"npy": file}
    return case


def torch_from(array):
    import torch
    return torch.from_numpy(np.ascontiguousarray(array))


def cases(kit):
    for _ in range(30):
        c = kit.randint(1, 5)
        shape = (kit.randint(1, 3), c, kit.randint(1, 5), kit.randint(1, 5))
        attrs = {"num_features": c}
        if kit.coin(0.3):
            attrs["eps"] = kit.choice([1e-3, 0.1])
        if kit.coin(0.2):
            attrs["momentum"] = kit.choice([None, 0.5])
        if kit.coin(0.25):
            attrs["affine"] = False
        if kit.coin(0.25):
            attrs["track_running_stats"] = False
            if shape[0] * shape[2] * shape[3] == 1:
                shape = (2, *shape[1:])
        yield batch_norm_case(kit, attrs, shape)
    for _ in range(15):
        c = kit.randint(1, 5)
        shape = (kit.randint(2, 4), c) if kit.coin() else (kit.randint(2, 3), c, kit.randint(1, 6))
        attrs = {"num_features": c}
        if kit.coin(0.25):
            attrs["affine"] = False
        if kit.coin(0.25):
            attrs["track_running_stats"] = False
        yield batch_norm_case(kit, attrs, shape, "BatchNorm1d")
    yield kit.op_case("BatchNorm1d", {"num_features": 3}, [kit.tensor((2, 3, 4, 4))])  # 4-d input
    yield kit.op_case("BatchNorm2d", {"num_features": 3}, [kit.tensor((3, 4, 4))])  # 3-d input
    yield kit.op_case("BatchNorm2d", {"num_features": 3}, [kit.tensor((2, 4, 4, 4))],
                      expect_error="(torch: running_mean should contain 4 elements not 3)")
