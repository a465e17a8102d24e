"""casekit: everything a conformance family needs to write its cases.

A *family* is a module in families/ with one function

    def cases(kit: Kit) -> Iterator[Case]

listed in gen_cases.py's FAMILIES. gen_cases writes every case it yields to
OUT/<family>/<NNNN>/case.json (plus .npy files) and counts them. A family is
mostly a loop that draws a configuration and hands it to `kit.op_case`:

    def cases(kit):
        for _ in range(200):
            rank = kit.choice([1, 2])
            attrs = {"norm_type": kit.choice([1, 2, 3]), "kernel_size": kit.randint(1, 3)}
            x = kit.tensor(kit.shape(rank, batch=True), "positive")
            yield kit.op_case(f"LPPool{rank}d", attrs, [x])
        # torch raises here, so this becomes an expected error with torch's message:
        yield kit.op_case("LPPool1d", {"norm_type": 2, "kernel_size": 0}, [x])

op_case builds both sides from the same attrs (mininn's attrs are the
torch.nn constructor's argument names): the mininn model (one node "node",
inputs "input"[, "indices"], outputs "output"[, "indices"]) and the torch
module, runs torch forward, draws random upstream gradients for the float
outputs and asks torch.autograd for the input and parameter gradients. If torch
raises, the case expects an error at `error_stage` with torch's message. For
multi-node networks use `kit.graph_case` with a hand-written model and a torch
function (families/graphs.py).

Reference precision: torch runs in float64 on float32-exact values. For max
pooling (values, indices, unpooling) that gives exactly what float32 torch
gives; for sums (averages, convolutions, gradients) it gives the exact result
to ~1e-16, so the runner's tolerance only has to absorb mininn's own float32
rounding, never torch's.

The case format is described in README.md next to this file.
"""

from __future__ import annotations

import json
import math
import os
import re
import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn as nn

# Ops whose float outputs are selections of input values, compared bit-exactly.
EXACT_OPS = ("MaxPool", "AdaptiveMaxPool", "MaxUnpool", "FractionalMaxPool")

# Attrs that PyTorch passes to forward() rather than to the constructor.
FORWARD_ATTRS = {"MaxUnpool": ("output_size",)}


@dataclass
class Case:
    about: str
    model: dict
    inputs: dict[str, str] = field(default_factory=dict)  # graph input -> file
    expect: dict | None = None
    error: dict | None = None
    files: dict[str, np.ndarray | bytes] = field(default_factory=dict)  # file name -> array, or raw bytes

    def write(self, directory: str) -> None:
        os.makedirs(directory)
        for name, content in self.files.items():
            if isinstance(content, bytes):
                with open(os.path.join(directory, name), "wb") as f:
                    f.write(content)
            else:
                np.save(os.path.join(directory, name), content, allow_pickle=False)
        document = {"about": self.about, "model": self.model, "inputs": self.inputs}
        if self.error is not None:
            document["error"] = self.error
        else:
            document["expect"] = self.expect
        with open(os.path.join(directory, "case.json"), "w") as f:
            f.write(to_json(document) + "\n")


def to_json(document) -> str:
    """Indented JSON with lists of numbers kept on one line."""
    text = json.dumps(document, indent=1, allow_nan=False)
    return re.sub(r"\[[^\[\]{}]*\]", lambda m: re.sub(r"\s*\n\s*", " ", m.group(0)).replace("[ ", "[").replace(" ]", "]"), text)


class Raised(Exception):
    """torch raised: carries the stage and torch's message."""

    def __init__(self, stage: str, message: str, grad_outputs: dict | None = None):
        super().__init__(message)
        self.stage = stage
        self.message = message
        self.grad_outputs = grad_outputs  # set when torch's backward raised


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    text = text[0] if text else type(error).__name__
    return f"{type(error).__name__}: {text}"[:400]


def torch_kwargs(attrs: dict) -> dict:
    """mininn attrs -> torch.nn constructor kwargs (lists become tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items()}


def describe(op: str, attrs: dict, shapes: Iterable[tuple]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in attrs.items())
    return f"{op}({args}) on {' and '.join(str(tuple(s)) for s in shapes)}"


def float32(array) -> np.ndarray:
    return np.array(array, dtype=np.float32, order="C")  # keeps a 0-d array 0-d (loss outputs)


class Net:
    """A multi-node network written once for both sides: each add() is one
    mininn node and the torch module doing the same (families/graphs.py).

        net = Net()
        net.input("x", (1, 2, 6, 6))
        net.add("conv", "Conv2d", ["x"], ["y"], {"in_channels": 2, "out_channels": 3, "kernel_size": 3},
                params={"weight": w, "bias": b})
        net.add("pool", "MaxPool2d", ["y"], ["p", "i"], {"kernel_size": 2, "return_indices": True})
        yield kit.net_case(net, {"x": x}, ["p", "i"], "conv then max pool")
    """

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.inputs: list[dict] = []
        self.nodes: list[dict] = []
        self._steps = []  # (module, inputs, outputs, forward kwargs)
        self._params: dict[str, dict] = {}  # node -> {param: array} (None: default init)

    def input(self, name: str, shape, *, dtype: str = "float32", requires_grad: bool = True) -> None:
        entry = {"name": name, "shape": list(shape)}
        if dtype != "float32":
            entry["dtype"] = dtype
        if not requires_grad:
            entry["requires_grad"] = False
        self.inputs.append(entry)

    def add(self, name: str, op: str, inputs: list, outputs: list, attrs: dict, params: dict | None = None) -> None:
        """params: {param: float32 array}; None keeps the default
        initialisation (drawn from torch.manual_seed(seed) in node order)."""
        self.nodes.append({"name": name, "op": op, "inputs": inputs, "outputs": outputs, "attrs": attrs})
        forward_names = FORWARD_ATTRS.get(op.rstrip("123d"), ())
        ctor = {k: v for k, v in attrs.items() if k not in forward_names}
        call = {k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items() if k in forward_names}
        self._steps.append((name, op, ctor, inputs, outputs, call))
        self._params[name] = params

    def model(self, outputs: list) -> dict:
        return {"format": "mininn/1", "seed": self.seed, "inputs": self.inputs, "nodes": self.nodes, "outputs": outputs}

    def build(self) -> dict:
        """The torch modules: constructed in node order after manual_seed,
        then given their params; only modules with parameters are returned."""
        torch.manual_seed(self.seed)
        self._modules = {}
        for name, op, ctor, _, _, _ in self._steps:
            module = getattr(nn, op)(**torch_kwargs(ctor))
            for pname, value in (self._params[name] or {}).items():
                getattr(module, pname).data = torch.from_numpy(float32(value))
            self._modules[name] = module
        return {n: m for n, m in self._modules.items() if any(True for _ in m.parameters())}

    def forward(self, tensors: dict, modules: dict) -> dict:
        """Runs every node once its inputs exist (file order need not be execution order)."""
        values = dict(tensors)
        pending = list(self._steps)
        while pending:
            ready = [s for s in pending if all(i in values for i in s[3])]
            if not ready:
                raise ValueError(f"Net: nodes {[s[0] for s in pending]} never get their inputs")
            for step in ready:
                name, _, _, inputs, outputs, call = step
                out = modules.get(name, self._modules[name])(*[values[i] for i in inputs], **call)
                values.update(zip(outputs, out if isinstance(out, tuple) else (out,)))
                pending.remove(step)
        return values

    def given_params(self) -> bool:
        return all(p is not None for n, p in self._params.items() if n in self.build())


class Kit:
    """Random draws for one family, and the case builders."""

    def __init__(self, seed: int, family: str):
        # Each family draws from its own stream, so adding a family (or cases
        # to one) leaves every other family's cases unchanged.
        self.rng = np.random.default_rng([seed, zlib.crc32(family.encode())])
        self.family = family

    # -- draws -------------------------------------------------------------
    def randint(self, lo: int, hi: int) -> int:
        """Uniform integer in [lo, hi] (both ends included)."""
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]

    def coin(self, p: float = 0.5) -> bool:
        return bool(self.rng.random() < p)

    def per_dim(self, rank: int, lo: int, hi: int, as_int_p: float = 0.5):
        """An int (same in every dimension) or a list of `rank` ints in [lo, hi]."""
        if self.coin(as_int_p):
            return self.randint(lo, hi)
        return [self.randint(lo, hi) for _ in range(rank)]

    def shape(self, rank: int, *, batch: str | int = "any", channels=(1, 3), sizes=None) -> tuple:
        """(N, C, *spatial) or unbatched (C, *spatial). batch: "any" (mostly
        1 or 2, sometimes unbatched, now and then N=0), "batched", None
        (unbatched) or a number. sizes: (lo, hi) of each spatial size."""
        lo, hi = sizes or {1: (1, 12), 2: (1, 9), 3: (1, 6)}[rank]
        spatial = tuple(self.randint(lo, hi) for _ in range(rank))
        c = self.randint(*channels)
        if batch == "any":
            batch = self.choice([None, None, 0, 1, 1, 2, 2, 2]) if self.coin(0.9) else self.choice([None, 0])
        elif batch == "batched":
            batch = self.choice([1, 2, 2, 3])
        return (c, *spatial) if batch is None else (batch, c, *spatial)

    def tensor(self, shape, kind: str = "normal") -> np.ndarray:
        """float32 values of a kind: normal, ints (0..3, many ties), positive,
        separated (distinct, >= 0.1 apart), nan, neginf, inf (+-inf), allnan,
        allneginf, special (a mix of all of them)."""
        shape = tuple(int(s) for s in shape)
        n = int(np.prod(shape)) if shape else 1
        r = self.rng
        if kind == "normal":
            x = r.standard_normal(n)
        elif kind == "ints":
            x = r.integers(0, 4, n).astype(np.float64)
        elif kind == "positive":
            x = r.uniform(0.1, 2.0, n)
        elif kind == "separated":
            x = (r.permutation(n) - n / 2) * 0.1
        elif kind in ("nan", "neginf", "inf"):
            x = r.standard_normal(n)
            x[r.random(n) < 0.2] = {"nan": np.nan, "neginf": -np.inf, "inf": np.inf}[kind]
            if kind == "inf":
                x[r.random(n) < 0.2] = -np.inf
        elif kind == "allnan":
            x = np.full(n, np.nan)
        elif kind == "allneginf":
            x = np.full(n, -np.inf)
        elif kind == "special":
            x = r.integers(0, 3, n).astype(np.float64)
            pick = r.random(n)
            x[pick < 0.15] = np.nan
            x[(pick >= 0.15) & (pick < 0.3)] = -np.inf
            x[(pick >= 0.3) & (pick < 0.35)] = np.inf
        else:
            raise ValueError(f"unknown tensor kind {kind!r}")
        return float32(x.reshape(shape))

    # -- builders ----------------------------------------------------------
    def op_case(
        self,
        op: str,
        attrs: dict,
        inputs: list,
        *,
        about: str | None = None,
        params: str | dict = "random",
        seed: int = 0,
        backward: bool = True,
        error_stage: str | Callable[[str], str] = "load",
        expect_error: str | None = None,
        requires_grad: bool = True,
        torch_batched: bool = False,
    ) -> Case:
        """One node `op` with `attrs` on `inputs` (numpy arrays; int64 arrays
        become int64 graph inputs). params: "random" (drawn here, written as
        .npy), "default" (none written: mininn must draw torch's default
        initialisation from the model seed `seed`) or {param: array}.
        expect_error: the case expects an error at error_stage without running
        torch (for mininn's documented deviations); the text says why.
        torch_batched: run torch on the inputs with a batch of 1 added and
        squeeze its outputs (PyTorch's definition of unbatched input), for
        where 1.13 fails on the unbatched path only."""
        family = op.rstrip("123d")
        forward_names = FORWARD_ATTRS.get(family, ())
        ctor = {k: v for k, v in attrs.items() if k not in forward_names}
        call = {k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items() if k in forward_names}
        names = ["input", "indices", "samples"][: len(inputs)]
        exact = op.startswith(EXACT_OPS)

        def build():
            if params == "default":
                torch.manual_seed(seed)
            module = getattr(nn, op)(**torch_kwargs(ctor))
            if params == "random":
                for name, p in module.named_parameters():
                    fan = max(1, int(np.prod(p.shape[1:])))
                    p.data = torch.from_numpy(self.tensor(p.shape) / math.sqrt(fan) * 1.5)
            elif isinstance(params, dict):
                for name, p in module.named_parameters():
                    p.data = torch.from_numpy(float32(params[name]))
            return {"node": module}

        def forward(t, modules):
            args = [t[n] for n in names]
            if torch_batched:
                args = [a.unsqueeze(0) for a in args]
            out = modules["node"](*args, **call)
            out = out if isinstance(out, tuple) else (out,)
            if torch_batched:
                out = tuple(o.squeeze(0) for o in out)
            return dict(zip(["output", "indices"], out))

        shapes = [x.shape for x in inputs]
        model_inputs = []
        for name, x in zip(names, inputs):
            entry = {"name": name, "shape": list(x.shape)}
            if x.dtype == np.int64:
                entry["dtype"] = "int64"
            elif not requires_grad:
                entry["requires_grad"] = False
            model_inputs.append(entry)
        returns_indices = bool(attrs.get("return_indices", False))
        outputs = ["output", "indices"] if returns_indices else ["output"]
        model = {
            "format": "mininn/1",
            "seed": seed,
            "inputs": model_inputs,
            "nodes": [{"name": "node", "op": op, "inputs": names, "outputs": outputs, "attrs": attrs}],
            "outputs": outputs,
        }
        return self.graph_case(
            about or describe(op, attrs, shapes),
            model,
            dict(zip(names, inputs)),
            build,
            forward,
            compare={"output": "exact" if exact else "close"},
            write_params=params != "default",
            backward=backward,
            error_stage=error_stage,
            expect_error=expect_error,
        )

    def net_case(self, net: Net, inputs: dict, outputs: list, about: str, **kw) -> Case:
        """A Net's graph on `inputs` with these graph outputs; kw as graph_case.
        Parameters given to net.add are written as .npy; all or none must be."""
        return self.graph_case(about, net.model(outputs), inputs, net.build, net.forward,
                               write_params=net.given_params(), **kw)

    def graph_case(
        self,
        about: str,
        model: dict,
        inputs: dict[str, np.ndarray],
        build: Callable[[], dict],
        forward: Callable[[dict, dict], dict],
        *,
        compare: dict | None = None,
        seeds: list[str] | None = None,
        write_params: bool = True,
        backward: bool = True,
        error_stage: str | Callable[[str], str] = "load",
        expect_error: str | None = None,
    ) -> Case:
        """A whole network. build() returns {node name: torch module} (float32,
        with the parameter values the case should use); forward(tensors,
        modules) returns {output value name: tensor} for every graph output.
        compare: output name -> "exact"|"close" (default close; int64 always
        exact). seeds: the float outputs that get a random upstream gradient
        (default all of them), as `mininn run --grad-output` would give.
        error_stage: where mininn must fail when torch's forward raises:
        "load" (anything shapes and attrs decide), "run" (what depends on
        values), or a function of torch's message choosing one. A failing
        constructor is always "load", a failing backward always "run"."""
        case = Case(about, model)
        for name, x in inputs.items():
            case.inputs[name] = f"in_{name}.npy"
            case.files[f"in_{name}.npy"] = x
        if expect_error is not None:
            case.error = {"stage": error_stage if isinstance(error_stage, str) else error_stage(expect_error), "pytorch": expect_error}
            return case
        try:
            try:
                modules = build()
            except Exception as e:  # noqa: BLE001 - any torch rejection is the expectation
                raise Raised("load", first_line(e)) from e
            self._attach_params(case, modules, write_params)
            result = self._run_torch(case, inputs, modules, forward, compare or {}, seeds, backward, error_stage)
        except Raised as r:
            case.error = {"stage": r.stage, "pytorch": r.message}
            if r.grad_outputs:  # the runner must run backward to see the error
                case.error["grad_outputs"] = r.grad_outputs
            return case
        case.expect = result
        return case

    # -- internals ---------------------------------------------------------
    def _attach_params(self, case: Case, modules: dict, write: bool) -> None:
        if not write:
            return
        by_name = {node["name"]: node for node in case.model["nodes"]}
        for node_name, module in modules.items():
            for pname, p in module.named_parameters():
                file = f"param_{node_name}.{pname}.npy"
                case.files[file] = float32(p.detach().numpy())
                by_name[node_name].setdefault("params", {})[pname] = {"npy": file}

    def _run_torch(self, case, inputs, modules, forward, compare, seeds, backward, error_stage) -> dict:
        declared = {i["name"]: i for i in case.model["inputs"]}
        tensors = {}
        wrt = []  # (gradient name, tensor)
        for name, x in inputs.items():
            t = torch.from_numpy(x.copy())
            if x.dtype == np.float32:
                t = t.double()
                if declared[name].get("requires_grad", True):
                    t.requires_grad_(True)
                    wrt.append((name, t))
            tensors[name] = t
        for node_name, module in modules.items():
            module.double()
            for pname, p in module.named_parameters():
                wrt.append((f"{node_name}.{pname}", p))
        try:
            outputs = forward(tensors, modules)
        except Exception as e:  # noqa: BLE001
            message = first_line(e)
            raise Raised(error_stage if isinstance(error_stage, str) else error_stage(message), message) from e

        expect = {"outputs": {}}
        for name in case.model["outputs"]:
            value = outputs[name]
            if value.dtype == torch.int64:
                array, mode = np.ascontiguousarray(value.detach().numpy()), "exact"
            else:
                array, mode = float32(value.detach().numpy()), compare.get(name, "close")
            file = f"out_{name}.npy"
            case.files[file] = array
            expect["outputs"][name] = {"file": file, "compare": mode}

        if not backward or not wrt:
            return expect
        float_outputs = [n for n in case.model["outputs"] if outputs[n].dtype != torch.int64]
        seeded = [n for n in (seeds if seeds is not None else float_outputs) if outputs[n].requires_grad]
        if not seeded:
            return expect
        expect["grad_outputs"] = {}
        upstream = []
        for name in seeded:
            g = self.tensor(outputs[name].shape)
            case.files[f"gout_{name}.npy"] = g
            expect["grad_outputs"][name] = f"gout_{name}.npy"
            upstream.append(torch.from_numpy(g).double())
        try:
            grads = torch.autograd.grad([outputs[n] for n in seeded], [t for _, t in wrt], upstream, allow_unused=True)
        except Exception as e:  # noqa: BLE001
            raise Raised("run", first_line(e), expect["grad_outputs"]) from e
        expect["grads"] = {}
        for (name, t), g in zip(wrt, grads):
            array = float32(np.zeros(t.shape) if g is None else g.detach().numpy())
            file = f"grad_{name}.npy"
            case.files[file] = array
            expect["grads"][name] = {"file": file, "compare": "close"}
        return expect


def windows_in_padding(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool) -> bool:
    """True when some dilated window along this axis has no tap inside the
    input (torch 1.13 returns -inf with an out-of-range index there and its
    backward writes out of bounds; mininn refuses the configuration)."""
    out = pool_output_size(size, kernel, stride, pad, dilation, ceil)
    for o in range(max(out, 0)):
        start = o * stride - pad
        if not any(0 <= start + j * dilation < size for j in range(kernel)):
            return True
    return False


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool) -> int:
    """PyTorch's pooling_output_shape (spec section 2.1)."""
    eff = dilation * (kernel - 1) + 1
    out = (size + 2 * pad - eff + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def expand(value, rank: int) -> list:
    """An int or 1-element list broadcast to `rank` entries (None stays None)."""
    if isinstance(value, list):
        return value * rank if len(value) == 1 else list(value)
    return [value] * rank
