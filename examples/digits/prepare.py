#!/usr/bin/python3
"""scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes) as .npy
files mininn trains on: images float32 (N, 1, 8, 8) scaled from 0..16 to
0..1, labels int64 (N). A fixed permutation (numpy's default_rng(0)) puts
1,437 images in train_*.npy and 360 in val_*.npy (scikit-learn's order
groups writers, so a split of its tail would hold writers the training set
never saw).

    /usr/bin/python3 examples/digits/prepare.py OUT_DIR
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_digits


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "digits-data"
    os.makedirs(out, exist_ok=True)
    digits = load_digits()
    images = (digits.images.astype(np.float32) / 16).reshape(-1, 1, 8, 8)
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(images))
    train, val = order[:1437], order[1437:]
    for name, rows in (("train", train), ("val", val)):
        np.save(os.path.join(out, f"{name}_images.npy"), np.ascontiguousarray(images[rows]))
        np.save(os.path.join(out, f"{name}_labels.npy"), labels[rows])
    print(f"prepare: {len(train)} training and {len(val)} validation images of 8x8 in {out}/")


if __name__ == "__main__":
    main()
