"""The seed demo (examples/seed/seed.json on rocket.jpg) against PyTorch doing
exactly the tutorial, and PyTorch's default initialisation: parameters that
the model does not give are drawn from its seed, node by node in file order,
as constructing the modules in that order after torch.manual_seed(seed)
draws them. Forward values show the parameters; gradients come along."""

from __future__ import annotations

import copy
import json
import os

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from casekit import Net

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "seed")


def seed_demo(kit):
    with open(os.path.join(EXAMPLE, "seed.json")) as f:
        model = json.load(f)
    with open(os.path.join(EXAMPLE, "rocket.jpg"), "rb") as f:
        photo = f.read()
    # The tutorial: the photo in grayscale, a 2-channel 5x5 conv whose channel 0
    # is a sharpening kernel and channel 1 nn.Conv2d's own initialisation after
    # torch.manual_seed(0), then three pools of the features.
    gray = np.asarray(Image.open(os.path.join(EXAMPLE, "rocket.jpg")).convert("L"), dtype=np.float32)
    image = gray.reshape(1, 1, *gray.shape)
    sharpen = -np.ones((5, 5), np.float32)
    sharpen[2, 2] = 24

    def build():
        torch.manual_seed(model.get("seed", 0))
        conv = nn.Conv2d(1, 2, 5, bias=False)
        with torch.no_grad():
            conv.weight[0, 0] = torch.from_numpy(sharpen)
        return {"conv": conv}

    def forward(t, modules):
        features = modules["conv"](t["image"])
        return {"max": nn.MaxPool2d(2, 2)(features), "avg": nn.AvgPool2d(2, 2)(features),
                "adaptive": nn.AdaptiveAvgPool2d((100, 100))(features)}

    # Forward only: the random channel's outputs are rounded differently in
    # float32 and float64, so a near-tie in a max window could move its argmax
    # (values stay within tolerance; a gradient would not).
    case = kit.graph_case("the seed demo: examples/seed/seed.json on examples/seed/rocket.jpg, as the tutorial does it in PyTorch",
                          model, {"image": image}, build, forward, write_params=False, backward=False)
    del case.files["in_image.npy"]
    case.files["rocket.jpg"] = photo
    case.inputs["image"] = "rocket.jpg"
    yield case


def default_init(kit):
    conv = lambda cin, cout, k, **kw: {"in_channels": cin, "out_channels": cout, "kernel_size": k, **kw}  # noqa: E731
    for seed, attrs, shape in [
        (0, conv(3, 4, 3), (2, 3, 6, 6)),
        (7, conv(2, 6, [3, 2], groups=2), (1, 2, 5, 5)),
        (123, conv(1, 3, 5, bias=False, padding=2), (1, 1, 8, 8)),
        (2**40 + 3, conv(4, 4, 1, groups=4), (4, 3, 3)),
        (42, conv(2, 16, 3, padding_mode="reflect", padding=1), (1, 2, 4, 4)),
    ]:
        case = kit.op_case("Conv2d", attrs, [kit.tensor(shape)], params="default", seed=seed)
        case.about = f"default init, seed {seed}: {case.about}"
        yield case

    # Several modules: draws follow the file order of the nodes, not the execution order.
    net = Net(seed=3)
    net.input("x", (1, 2, 7, 7))
    net.add("second", "Conv2d", ["y"], ["z"], conv(3, 2, 3))
    net.add("first", "Conv2d", ["x"], ["y"], conv(2, 3, 3, padding=1))
    net.add("pool", "AvgPool2d", ["z"], ["p"], {"kernel_size": 2})
    yield kit.net_case(net, {"x": kit.tensor((1, 2, 7, 7))}, ["p"],
                       "default init of two Conv2d listed in reverse order of execution (seed 3), then AvgPool2d")

    # A weight given for one output channel ("data" with a null slice), the rest and the bias drawn.
    model = {"format": "mininn/1", "seed": 11, "inputs": [{"name": "x", "shape": [1, 1, 6, 6]}],
             "nodes": [{"name": "conv", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"],
                        "attrs": conv(1, 3, 3),
                        "params": {"weight": {"data": [None, [[[1, 0, -1], [2, 0, -2], [1, 0, -1]]], None]}}}],
             "outputs": ["y"]}

    def build():
        torch.manual_seed(11)
        module = nn.Conv2d(1, 3, 3)
        with torch.no_grad():
            module.weight[1, 0] = torch.tensor([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
        return {"conv": module}

    yield kit.graph_case("default init (seed 11) with the weight of output channel 1 given as data and the rest drawn",
                         copy.deepcopy(model), {"x": kit.tensor((1, 1, 6, 6))}, build,
                         lambda t, m: {"y": m["conv"](t["x"])}, write_params=False)


def cases(kit):
    yield from seed_demo(kit)
    yield from default_init(kit)
