#!/usr/bin/python3
"""`mininn run --training --backward` on a model that ends in a loss node,
against the same network in PyTorch: the loss, and the loss's gradient for
every parameter, with BatchNorm using batch statistics and Dropout drawing
its mask from the model's seed.

    /usr/bin/python3 tests/training/check_run_cli.py --mininn build/mininn --work DIR
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn

SEED = 5


def model_json():
    return {
        "format": "mininn/1", "seed": SEED,
        "inputs": [{"name": "image", "shape": [6, 2, 6, 6], "requires_grad": False},
                   {"name": "label", "shape": [6], "dtype": "int64"}],
        "nodes": [
            {"name": "conv", "op": "Conv2d", "inputs": ["image"], "outputs": ["c"],
             "attrs": {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "bias": False}},
            {"name": "bn", "op": "BatchNorm2d", "inputs": ["c"], "outputs": ["b"], "attrs": {"num_features": 3}},
            {"name": "act", "op": "LeakyReLU", "inputs": ["b"], "outputs": ["r"], "attrs": {"negative_slope": 0.1}},
            {"name": "flat", "op": "Flatten", "inputs": ["r"], "outputs": ["f"]},
            {"name": "drop", "op": "Dropout", "inputs": ["f"], "outputs": ["d"], "attrs": {"p": 0.3}},
            {"name": "fc", "op": "Linear", "inputs": ["d"], "outputs": ["logits"], "attrs": {"in_features": 48, "out_features": 4}},
            {"name": "loss", "op": "CrossEntropyLoss", "inputs": ["logits", "label"], "outputs": ["loss"],
             "attrs": {"label_smoothing": 0.1}},
        ],
        "outputs": ["loss"],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mininn", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2, 6, 6)).astype(np.float32)
    y = rng.integers(0, 4, 6).astype(np.int64)
    np.save(os.path.join(args.work, "image.npy"), x)
    np.save(os.path.join(args.work, "label.npy"), y)
    with open(os.path.join(args.work, "model.json"), "w") as f:
        json.dump(model_json(), f)

    torch.manual_seed(SEED)  # default initialisation, modules in node order
    # No conv bias before BatchNorm: its gradient is exactly 0 up to rounding noise.
    modules = [nn.Conv2d(2, 3, 3, bias=False), nn.BatchNorm2d(3), nn.LeakyReLU(0.1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(48, 4)]
    names = ["conv", "bn", "act", "flat", "drop", "fc"]
    net = nn.Sequential(*modules).train()
    torch.manual_seed(SEED)  # the Execution's stream: Dropout's mask
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(net(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()

    out = os.path.join(args.work, "out")
    cmd = [args.mininn, "run", os.path.join(args.work, "model.json"), "--input", f"image={args.work}/image.npy",
           "--input", f"label={args.work}/label.npy", "--training", "--backward", "--output-dir", out]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    failures = []

    def close(what, got, want, tol=1e-5):
        scale = max(float(np.abs(want).max()), 1e-12)
        error = float(np.abs(got - want).max()) / scale
        status = "ok" if error <= tol else "FAILED"
        print(f"check_run_cli: {what:<14} relative error {error:.2e} {status}")
        if error > tol:
            failures.append(what)

    close("loss", np.load(os.path.join(out, "loss.npy")), loss.detach().numpy())
    for name, module in zip(names, modules):
        for pname, p in module.named_parameters():
            close(f"{name}.{pname}", np.load(os.path.join(out, "grad", f"{name}.{pname}.npy")), p.grad.numpy())
    if failures:
        print(f"check_run_cli: {len(failures)} mismatches: {', '.join(failures)}")
        return 1
    print("check_run_cli: mininn run --training --backward matches torch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
