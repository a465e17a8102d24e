#!/usr/bin/python3
"""Writes the PyTorch references of mininn's training tests (test_training.cpp).

    /usr/bin/python3 tests/training/gen_training_cases.py --out build/tests/training/cases

Three kinds of reference, each a folder of .npy files (and a model.json):

  batchnorm/   BatchNorm1d/2d in training mode: the output and the gradients of
               one forward/backward, then the running statistics and
               num_batches_tracked after three forwards (momentum 0.1 and
               momentum None, the cumulative average).
  dropout/     Dropout in training mode after torch.manual_seed(seed): the
               output (every mask bit) and the input's gradient.
  trajectory/  A small Conv-BatchNorm-ReLU-Pool-Dropout-Linear classifier
               trained for 20 steps (4 epochs of 140 samples, batch 32, the
               last batch of each epoch partial) with each optimizer, written
               exactly as a PyTorch user writes it: modules built in file
               order after torch.manual_seed(model seed), torch.manual_seed
               (train seed), a shuffled DataLoader, model.train()/eval(), the
               optimizer, a validation DataLoader per epoch. Losses of every
               step, validation loss and accuracy per epoch, final state_dict.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

OPTIMIZERS = {
    "sgd_momentum": ("sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-4}),
    "sgd_nesterov": ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "dampening": 0.0}),
    "adam": ("adam", {"lr": 0.01}),
    "adamw_amsgrad": ("adamw", {"lr": 0.01, "weight_decay": 0.05, "amsgrad": True}),
}

MODEL_SEED, TRAIN_SEED = 3, 11
CLASSES, SAMPLES, VAL_SAMPLES, BATCH, EPOCHS = 5, 140, 30, 32, 4


def save(folder, name, array):
    np.save(os.path.join(folder, f"{name}.npy"), np.array(array, order="C"), allow_pickle=False)


def batchnorm(out):
    rng = np.random.default_rng(1)
    for name, op, shape, momentum in (("momentum", "BatchNorm2d", (4, 3, 5, 6), 0.1),
                                      ("cumulative", "BatchNorm2d", (4, 3, 5, 6), None),
                                      ("1d", "BatchNorm1d", (10, 3), 0.1), ("1d_sequence", "BatchNorm1d", (4, 3, 7), 0.3)):
        folder = os.path.join(out, "batchnorm", name)
        os.makedirs(folder)
        x = rng.standard_normal(shape).astype(np.float32) * 2 + 0.5
        g = rng.standard_normal(x.shape).astype(np.float32)
        w = (rng.standard_normal(3) + 1).astype(np.float32)
        b = rng.standard_normal(3).astype(np.float32)
        bn = getattr(nn, op)(3, momentum=momentum).double()
        bn.weight.data = torch.from_numpy(w).double()
        bn.bias.data = torch.from_numpy(b).double()
        bn.train()
        xt = torch.from_numpy(x).double().requires_grad_(True)
        y = bn(xt)
        y.backward(torch.from_numpy(g).double())
        for key, value in (("x", x), ("g", g), ("weight", w), ("bias", b), ("y", y.detach().numpy()),
                           ("dx", xt.grad.numpy()), ("dweight", bn.weight.grad.numpy()), ("dbias", bn.bias.grad.numpy()),
                           ("running_mean_1", bn.running_mean.numpy()), ("running_var_1", bn.running_var.numpy())):
            save(folder, key, np.asarray(value, dtype=np.float32))
        x2 = rng.standard_normal(x.shape).astype(np.float32)
        x3 = rng.standard_normal(x.shape).astype(np.float32) * 0.5
        with torch.no_grad():
            bn(torch.from_numpy(x2).double())
            bn(torch.from_numpy(x3).double())
        save(folder, "x2", x2)
        save(folder, "x3", x3)
        save(folder, "running_mean_3", bn.running_mean.numpy().astype(np.float32))
        save(folder, "running_var_3", bn.running_var.numpy().astype(np.float32))
        save(folder, "num_batches_tracked", np.array(int(bn.num_batches_tracked), dtype=np.int64))
        with open(os.path.join(folder, "attrs.json"), "w") as f:
            json.dump({"op": op, "attrs": {"num_features": 3, "momentum": momentum}}, f)


def dropout(out):
    rng = np.random.default_rng(2)
    for name, p, shape, seed in (("half", 0.5, (4, 250), 7), ("p03", 0.3, (3, 7, 11), 123), ("p09", 0.9, (1000,), 5)):
        folder = os.path.join(out, "dropout", name)
        os.makedirs(folder)
        x = rng.standard_normal(shape).astype(np.float32)
        g = rng.standard_normal(shape).astype(np.float32)
        torch.manual_seed(seed)
        xt = torch.from_numpy(x).requires_grad_(True)  # float32: the mask scale is torch's float arithmetic
        y = torch.nn.functional.dropout(xt, p, True)
        y.backward(torch.from_numpy(g))
        save(folder, "x", x)
        save(folder, "g", g)
        save(folder, "y", y.detach().numpy())
        save(folder, "dx", xt.grad.numpy())
        with open(os.path.join(folder, "attrs.json"), "w") as f:
            json.dump({"p": p, "seed": seed}, f)


def trajectory_model():
    return {
        "format": "mininn/1", "name": "trajectory", "seed": MODEL_SEED,
        "inputs": [{"name": "image", "shape": [None, 1, 8, 8]}],
        "nodes": [
            {"name": "conv", "op": "Conv2d", "inputs": ["image"], "outputs": ["c"],
             "attrs": {"in_channels": 1, "out_channels": 4, "kernel_size": 3, "padding": 1, "bias": False}},
            {"name": "bn", "op": "BatchNorm2d", "inputs": ["c"], "outputs": ["b"], "attrs": {"num_features": 4}},
            {"name": "relu", "op": "ReLU", "inputs": ["b"], "outputs": ["r"]},
            {"name": "pool", "op": "MaxPool2d", "inputs": ["r"], "outputs": ["p"], "attrs": {"kernel_size": 2}},
            {"name": "flatten", "op": "Flatten", "inputs": ["p"], "outputs": ["f"]},
            {"name": "drop", "op": "Dropout", "inputs": ["f"], "outputs": ["d"], "attrs": {"p": 0.2}},
            {"name": "fc", "op": "Linear", "inputs": ["d"], "outputs": ["logits"],
             "attrs": {"in_features": 64, "out_features": CLASSES}},
        ],
        "outputs": ["logits"],
    }


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        # No bias before BatchNorm: its gradient is rounding noise, which Adam
        # would normalise into full-size steps (a trajectory of noise).
        self.conv = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(64, CLASSES)

    def forward(self, x):
        return self.fc(self.drop(self.flatten(self.pool(self.relu(self.bn(self.conv(x)))))))


def trajectory(out):
    folder = os.path.join(out, "trajectory")
    os.makedirs(folder)
    rng = np.random.default_rng(3)
    # Class-dependent blobs, so the loss really falls.
    def data(n):
        y = rng.integers(0, CLASSES, n).astype(np.int64)
        x = rng.standard_normal((n, 1, 8, 8)).astype(np.float32) * 0.5
        for i, c in enumerate(y):
            x[i, 0, c, :] += 1.5
        return x, y
    x, y = data(SAMPLES)
    vx, vy = data(VAL_SAMPLES)
    for name, value in (("x", x), ("y", y), ("val_x", vx), ("val_y", vy)):
        save(folder, name, value)
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(trajectory_model(), f, indent=1)

    for config, (kind, kwargs) in OPTIMIZERS.items():
        torch.manual_seed(MODEL_SEED)
        model = Net()
        torch.manual_seed(TRAIN_SEED)
        make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
        optimizer = make(model.parameters(), **kwargs)
        loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=BATCH, shuffle=True)
        val_loader = DataLoader(TensorDataset(torch.from_numpy(vx), torch.from_numpy(vy)), batch_size=BATCH)
        loss_fn = nn.CrossEntropyLoss()
        losses, val = [], []
        for _ in range(EPOCHS):
            model.train()
            for xb, yb in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            model.eval()
            total, correct = 0.0, 0
            with torch.no_grad():
                for xb, yb in val_loader:
                    logits = model(xb)
                    total += loss_fn(logits, yb).item() * len(yb)
                    correct += int((logits.argmax(1) == yb).sum())
            val.append((total / VAL_SAMPLES, correct / VAL_SAMPLES))
        sub = os.path.join(folder, config)
        os.makedirs(sub)
        save(sub, "losses", np.array(losses, dtype=np.float64))
        save(sub, "val", np.array(val, dtype=np.float64))
        for name, tensor in model.state_dict().items():
            save(sub, name, tensor.numpy())
        with open(os.path.join(sub, "optimizer.json"), "w") as f:
            json.dump({"kind": kind, **kwargs}, f)
    with open(os.path.join(folder, "settings.json"), "w") as f:
        json.dump({"train_seed": TRAIN_SEED, "batch": BATCH, "epochs": EPOCHS}, f)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    staging = args.out.rstrip("/") + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    batchnorm(staging)
    dropout(staging)
    trajectory(staging)
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(staging, args.out)
    print(f"gen_training_cases: wrote {args.out} (torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
