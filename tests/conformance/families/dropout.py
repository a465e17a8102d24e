"""Dropout in evaluation mode (the identity, forward and backward) and its
errors. Training-mode masks are checked draw for draw by tests/training."""

from __future__ import annotations

import torch.nn as nn

from casekit import describe


def cases(kit):
    for p in (0.0, 0.2, 0.5, 1.0):
        shape = tuple(kit.randint(1, 5) for _ in range(kit.randint(1, 4)))
        attrs = {"p": p}
        model = {"format": "mininn/1", "inputs": [{"name": "input", "shape": list(shape)}],
                 "nodes": [{"name": "node", "op": "Dropout", "inputs": ["input"], "outputs": ["output"], "attrs": attrs}],
                 "outputs": ["output"]}
        yield kit.graph_case(describe("Dropout", attrs, [shape]) + " (eval)", model, {"input": kit.tensor(shape)},
                             lambda p=p: {"node": nn.Dropout(p).eval()},
                             lambda t, m: {"output": m["node"](t["input"])})
    yield kit.op_case("Dropout", {"p": 1.5}, [kit.tensor((2, 3))])
    yield kit.op_case("Dropout", {"p": -0.1}, [kit.tensor((2, 3))])
