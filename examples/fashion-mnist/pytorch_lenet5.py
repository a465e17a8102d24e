#!/usr/bin/python3
"""The same training run in PyTorch: LeNet-5 on Fashion-MNIST, built, seeded,
shuffled and optimised exactly as `mininn train` does it (docs/training.md),
so its losses follow mininn's. Prints the same per-epoch summary, with the
epoch time, for the benchmark in README.md.

    /usr/bin/python3 examples/fashion-mnist/pytorch_lenet5.py [--epochs 10] [--threads 2]
"""

import argparse
import gzip
import time

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

DATA = "/usr/share/datasets/fashion-mnist/"


def idx(name, offset):
    with gzip.open(DATA + name) as f:
        return np.frombuffer(f.read()[offset:], dtype=np.uint8)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N images only (benchmarks)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    # IDX uint8 pixels -> float32 / 255, as mininn reads them.
    x = torch.from_numpy(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).copy()).float() / 255
    y = torch.from_numpy(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    vx = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).copy()).float() / 255
    vy = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64))
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]

    # The modules in lenet5.json's node order, after torch.manual_seed(model seed = 0).
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    torch.manual_seed(args.seed)  # mininn train --seed
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(TensorDataset(vx, vy), batch_size=args.batch_size)

    for epoch in range(1, args.epochs + 1):
        model.train()
        start = time.perf_counter()
        total, correct = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
            correct += int((logits.argmax(1) == yb).sum())
        seconds = time.perf_counter() - start
        model.eval()
        val_total, val_correct = 0.0, 0
        with torch.no_grad():
            for xb, yb in val_loader:
                logits = model(xb)
                val_total += loss_fn(logits, yb).item() * len(yb)
                val_correct += int((logits.argmax(1) == yb).sum())
        print(f"epoch {epoch}/{args.epochs}: train loss {total / len(y):.4f}, train accuracy {correct / len(y):.4f}, "
              f"validation loss {val_total / len(vy):.4f}, validation accuracy {val_correct / len(vy):.4f} "
              f"({seconds:.1f} s, {len(y) / seconds:.0f} images/s)", flush=True)


if __name__ == "__main__":
    main()
