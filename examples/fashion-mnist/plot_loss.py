#!/usr/bin/python3
"""Draws loss.png from a `mininn train --log-csv` file: the training loss of
every step (light) and its average per epoch, with the test loss and
accuracy per epoch.

    /usr/bin/python3 examples/fashion-mnist/plot_loss.py LOG.csv loss.png
"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    source, target = sys.argv[1], sys.argv[2]
    steps, epochs = [], []
    with open(source) as f:
        for row in csv.DictReader(f):
            (steps if row["kind"] == "step" else epochs).append(row)
    per_epoch = max(int(r["step"]) for r in steps)
    x = [int(r["epoch"]) - 1 + int(r["step"]) / per_epoch for r in steps]
    fig, left = plt.subplots(figsize=(8, 4.5), dpi=100)
    left.plot(x, [float(r["train_loss"]) for r in steps], color="#9ecae1", linewidth=0.6, label="training loss (each step)")
    ends = [int(r["epoch"]) for r in epochs]
    left.plot(ends, [float(r["train_loss"]) for r in epochs], "o-", color="#08519c", label="training loss (epoch mean)")
    left.plot(ends, [float(r["val_loss"]) for r in epochs], "s-", color="#e6550d", label="test loss")
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy")
    left.set_ylim(0, 1.2)
    left.grid(alpha=0.3)
    right = left.twinx()
    right.plot(ends, [100 * float(r["val_accuracy"]) for r in epochs], "^--", color="#31a354", label="test accuracy")
    right.set_ylabel("test accuracy (%)")
    right.set_ylim(75, 95)
    lines = left.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    left.legend(lines[0] + more[0], lines[1] + more[1], loc="center right")
    left.set_title("mininn: LeNet-5 on Fashion-MNIST (SGD, lr 0.01, momentum 0.9, batch 64)")
    fig.tight_layout()
    fig.savefig(target)
    print(f"plot_loss: wrote {target}")


if __name__ == "__main__":
    main()
