#!/usr/bin/python3
"""The seed demo in PyTorch, as a whole process: the twin of

    mininn run MODEL.json --input image=PHOTO --output-dir DIR --png

    /usr/bin/python3 bench/seed_pipeline.py MODEL.json PHOTO DIR

Reads the seed model (examples/seed/seed.json: conv 5x5 1->2 without bias,
then MaxPool2d 2/2, AvgPool2d 2/2 and AdaptiveAvgPool2d (100, 100) of its
features), builds the same modules after torch.manual_seed(seed) so that the
kernel's default-initialised channel is the one mininn draws, loads the
photo as PIL's convert("L"), runs, and writes DIR/<output>.npy and
DIR/<output>.png (each channel of the first image min-max scaled to gray,
side by side). bench/run.py times it against mininn.
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image


def picture(array):
    """Every channel of the first image, min-max scaled to 0..255, side by side."""
    channels = []
    for channel in array[0]:
        low, high = float(channel.min()), float(channel.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        channels.append(np.round((channel - low) * scale).astype(np.uint8))
    return Image.fromarray(np.concatenate(channels, axis=1))


def main(model_path, photo, out_dir):
    torch.set_num_threads(2)
    model = json.load(open(model_path))
    conv_node = model["nodes"][0]
    torch.manual_seed(model.get("seed", 0))
    conv = torch.nn.Conv2d(1, 2, 5, bias=False)
    with torch.no_grad():
        for c, data in enumerate(conv_node["params"]["weight"]["data"]):
            if data is not None:
                conv.weight[c] = torch.tensor(data, dtype=torch.float32)
    pools = {"max": torch.nn.MaxPool2d(2, 2), "avg": torch.nn.AvgPool2d(2, 2),
             "adaptive": torch.nn.AdaptiveAvgPool2d((100, 100))}

    image = np.asarray(Image.open(photo).convert("L"), dtype=np.float32)
    x = torch.from_numpy(image)[None, None]
    with torch.no_grad():
        features = conv(x)
        outputs = {name: pool(features).numpy() for name, pool in pools.items()}

    os.makedirs(out_dir, exist_ok=True)
    for name, array in outputs.items():
        np.save(os.path.join(out_dir, name + ".npy"), array)
        picture(array).save(os.path.join(out_dir, name + ".png"))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
