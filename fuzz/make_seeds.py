#!/usr/bin/python3
"""Writes the seed corpus of the fuzz targets: small, meaningful files, one
per format variant the readers handle (and a few they refuse), so that the
fuzzer starts from every branch a real file takes.

    python3 fuzz/make_seeds.py            # rewrites fuzz/corpus/*/seed_*

Findings (crash-*, slow-*, finding_*) live beside the seeds and are never
touched here. Needs numpy and Pillow (Debian's python3-numpy, python3-pil).
"""
import gzip
import io
import json
import struct
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent / "corpus"


def put(target, name, data):
    folder = ROOT / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (folder / f"seed_{name}").write_bytes(data)


def npy_bytes(array, version=None):
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()


def npy_seeds():
    ramp = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    put("npy", "f4_2x3.npy", npy_bytes(ramp))
    put("npy", "f8_scalar.npy", npy_bytes(np.float64(3.25)))
    put("npy", "f2_4.npy", npy_bytes(np.array([0, 1e-7, -np.inf, np.nan], dtype=np.float16)))
    put("npy", "i8_3.npy", npy_bytes(np.array([-1, 0, 2**40], dtype=np.int64)))
    put("npy", "i1_2x2.npy", npy_bytes(np.array([[-128, 1], [2, 127]], dtype=np.int8)))
    put("npy", "u8_2.npy", npy_bytes(np.array([1, 2**63], dtype=np.uint64)))
    put("npy", "u1_gray.npy", npy_bytes(np.arange(12, dtype=np.uint8).reshape(1, 3, 4)))
    put("npy", "b1_3.npy", npy_bytes(np.array([True, False, True])))
    put("npy", "empty_0x3.npy", npy_bytes(np.zeros((0, 3), dtype=np.float32)))
    put("npy", "fortran_1x4.npy", npy_bytes(np.asfortranarray(np.ones((1, 4), dtype=np.float32))))
    put("npy", "fortran_2x2.npy", npy_bytes(np.asfortranarray(np.eye(2, dtype=np.float32))))
    put("npy", "v2_i4.npy", npy_bytes(np.array([7, -7], dtype=np.int32), version=(2, 0)))
    put("npy", "v3_u2.npy", npy_bytes(np.array([65535], dtype=np.uint16), version=(3, 0)))
    put("npy", "big_endian.npy", npy_bytes(np.array([1, 2], dtype=">i4")))
    put("npy", "structured.npy", npy_bytes(np.zeros(2, dtype=[("a", "<f4")])))


def safetensors_bytes(tensors, metadata=None, pad=True):
    header, payload = {}, b""
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(payload), len(payload) + len(data)]}
        payload += data
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + payload


def safetensors_seeds():
    f32 = np.arange(6, dtype=np.float32).tobytes()
    put("safetensors", "f32.safetensors", safetensors_bytes({"w": ("F32", [2, 3], f32)}, {"format": "pt"}))
    put("safetensors", "mixed.safetensors", safetensors_bytes({
        "a.weight": ("F16", [2], np.array([1.5, -2], dtype=np.float16).tobytes()),
        "a.bias": ("BF16", [1], b"\x80\x3f"),
        "b.count": ("I64", [], struct.pack("<q", 7)),
        "c": ("I32", [2], np.array([1, -1], dtype=np.int32).tobytes()),
        "d": ("U8", [3], b"\x00\x7f\xff"),
        "e": ("BOOL", [2], b"\x00\x01"),
        "f": ("F64", [1], struct.pack("<d", 0.1)),
        "g": ("I16", [1], struct.pack("<h", -3)),
        "h": ("I8", [1], struct.pack("<b", -4)),
    }))
    put("safetensors", "empty_tensor.safetensors", safetensors_bytes({"z": ("F32", [0, 4], b"")}))
    put("safetensors", "no_tensors.safetensors", safetensors_bytes({}, {"note": "nothing"}, pad=False))
    put("safetensors", "unknown_dtype.safetensors", safetensors_bytes({"q": ("F8_E4M3", [1], b"\x00")}))


def image_bytes(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def image_seeds():
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8), "RGB")
    gray = rgb.convert("L")
    put("image", "rgb.png", image_bytes(rgb, "PNG"))
    put("image", "rgba_interlaced.png", image_bytes(rgb.convert("RGBA"), "PNG", interlace=1))
    put("image", "gray.png", image_bytes(gray, "PNG"))
    put("image", "gray_alpha.png", image_bytes(gray.convert("LA"), "PNG"))
    put("image", "bilevel.png", image_bytes(gray.convert("1"), "PNG"))
    put("image", "gray16.png", image_bytes(Image.fromarray(np.arange(30, dtype=np.uint16).reshape(5, 6) * 20), "PNG"))
    put("image", "palette.png", image_bytes(rgb.convert("P", palette=Image.ADAPTIVE, colors=4), "PNG"))
    put("image", "palette_2bit.png", image_bytes(rgb.convert("P", palette=Image.ADAPTIVE, colors=4), "PNG", bits=2))
    put("image", "rgb.jpg", image_bytes(rgb, "JPEG", quality=90))
    put("image", "gray.jpg", image_bytes(gray, "JPEG"))
    put("image", "progressive.jpg", image_bytes(rgb, "JPEG", progressive=True))
    put("image", "cmyk.jpg", image_bytes(rgb.convert("CMYK"), "JPEG"))
    put("image", "subsampled.jpg", image_bytes(rgb.resize((17, 9)), "JPEG", subsampling=2))
    put("image", "rgb.bmp", image_bytes(rgb, "BMP"))
    put("image", "gray.bmp", image_bytes(gray, "BMP"))
    put("image", "bilevel.bmp", image_bytes(gray.convert("1"), "BMP"))
    put("image", "palette.bmp", image_bytes(rgb.convert("P", palette=Image.ADAPTIVE, colors=16), "BMP"))
    put("image", "rgba.bmp", image_bytes(rgb.convert("RGBA"), "BMP"))
    # OS/2 1.x header (12 bytes, 3-byte palette entries), 8-bit, 2 x 2.
    os2 = struct.pack("<2sIHHI", b"BM", 14 + 12 + 3 * 256 + 8, 0, 0, 14 + 12 + 3 * 256)
    os2 += struct.pack("<IHHHH", 12, 2, 2, 1, 8) + bytes(i for i in range(256) for _ in range(3))
    os2 += bytes([1, 2, 0, 0, 3, 4, 0, 0])
    put("image", "os2.bmp", os2)
    # Top-down 24-bit with bit fields (BI_BITFIELDS), 2 x 1.
    header = struct.pack("<IiiHHIIiiII", 40, 2, -1, 1, 32, 3, 8, 0, 0, 0, 0)
    masks = struct.pack("<III", 0xFF0000, 0xFF00, 0xFF)
    offset = 14 + len(header) + len(masks)
    put("image", "bitfields_top_down.bmp",
        struct.pack("<2sIHHI", b"BM", offset + 8, 0, 0, offset) + header + masks + bytes(range(8)))


def idx_bytes(code, array, dtype):
    head = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return head + array.astype(dtype).tobytes()


def idx_seeds():
    images = np.arange(2 * 3 * 3).reshape(2, 3, 3)
    put("idx", "images_u8.idx", idx_bytes(0x08, images, ">u1"))
    put("idx", "labels_u8.idx", idx_bytes(0x08, np.array([3, 1, 4]), ">u1"))
    put("idx", "labels_i8.idx", idx_bytes(0x09, np.array([-1, 2]), ">i1"))
    put("idx", "i16.idx", idx_bytes(0x0B, np.array([[-300, 300]]), ">i2"))
    put("idx", "i32.idx", idx_bytes(0x0C, np.array([70000]), ">i4"))
    put("idx", "f32.idx", idx_bytes(0x0D, np.array([0.5, -1.0]), ">f4"))
    put("idx", "f64.idx", idx_bytes(0x0E, np.array([[1e300]]), ">f8"))
    put("idx", "images_u8.idx.gz", gzip.compress(idx_bytes(0x08, images, ">u1"), mtime=0))


def model(inputs, nodes, outputs, **extra):
    document = {"format": "mininn/1", **extra, "inputs": inputs, "nodes": nodes, "outputs": outputs}
    return json.dumps(document, indent=1)


def node(name, op, inputs, outputs, attrs=None, params=None):
    n = {"name": name, "op": op, "inputs": inputs, "outputs": outputs}
    if attrs is not None:
        n["attrs"] = attrs
    if params is not None:
        n["params"] = params
    return n


def model_seeds():
    x4 = [{"name": "x", "shape": [None, 1, 6, 6]}]
    put("model", "conv_pool_unpool.json", model(x4, [
        node("conv", "Conv2d", ["x"], ["f"], {"in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": 1},
             {"weight": {"npy": "w.npy"}, "bias": {"data": [0.5, -0.5]}}),
        node("pool", "MaxPool2d", ["f"], ["p", "i"], {"kernel_size": 2, "stride": 2, "return_indices": True}),
        node("unpool", "MaxUnpool2d", ["p", "i"], ["u"], {"kernel_size": 2, "stride": 2}),
    ], ["p", "u"], seed=3))
    put("model", "weights_file.json", model(x4, [
        node("conv", "Conv2d", ["x"], ["f"], {"in_channels": 1, "out_channels": 2, "kernel_size": 3}),
        node("bn", "BatchNorm2d", ["f"], ["g"], {"num_features": 2}),
        node("flat", "Flatten", ["g"], ["h"], {"start_dim": 2}),
        node("pool", "AdaptiveAvgPool1d", ["h"], ["k"], {"output_size": 4}),
        node("fc", "Linear", ["k"], ["y"], {"in_features": 4, "out_features": 3}),
    ], ["y"], weights="w.safetensors"))
    put("model", "pools_1d.json", model([{"name": "x", "shape": [2, 8]}], [
        node("max", "MaxPool1d", ["x"], ["a"], {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2,
                                                "ceil_mode": True}),
        node("avg", "AvgPool1d", ["x"], ["b"], {"kernel_size": 3, "padding": 1, "count_include_pad": False}),
        node("lp", "LPPool1d", ["x"], ["c"], {"norm_type": 2, "kernel_size": 2}),
        node("amax", "AdaptiveMaxPool1d", ["x"], ["d", "di"], {"output_size": 3, "return_indices": True}),
    ], ["a", "b", "c", "d", "di"]))
    put("model", "pools_2d.json", model([{"name": "x", "shape": [1, 2, 7, 5]}], [
        node("avg", "AvgPool2d", ["x"], ["a"], {"kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 0],
                                                "ceil_mode": True, "divisor_override": 3}),
        node("lp", "LPPool2d", ["x"], ["b"], {"norm_type": 1.5, "kernel_size": 2, "ceil_mode": True}),
        node("amax", "AdaptiveMaxPool2d", ["x"], ["c"], {"output_size": [3, None]}),
        node("frac", "FractionalMaxPool2d", ["x"], ["d", "di"], {"kernel_size": 2, "output_size": [4, 3],
                                                                  "return_indices": True}),
        node("unpool", "MaxUnpool2d", ["d", "di"], ["e"], {"kernel_size": 2, "output_size": [7, 5]}),
    ], ["a", "b", "c", "e"]))
    put("model", "pools_3d.json", model([{"name": "x", "shape": [1, 1, 4, 5, 6]},
                                         {"name": "s", "shape": [1, 1, 3], "requires_grad": False}], [
        node("max", "MaxPool3d", ["x"], ["a", "ai"], {"kernel_size": 2, "stride": 1, "padding": 1,
                                                      "return_indices": True}),
        node("unpool", "MaxUnpool3d", ["a", "ai"], ["b"], {"kernel_size": 2, "stride": 1, "padding": 1}),
        node("avg", "AvgPool3d", ["x"], ["c"], {"kernel_size": [2, 3, 3], "stride": 2}),
        node("aavg", "AdaptiveAvgPool3d", ["x"], ["d"], {"output_size": [3, 3, 4]}),
        node("frac", "FractionalMaxPool3d", ["x", "s"], ["e"], {"kernel_size": 2, "output_ratio": 0.5}),
        node("lp", "LPPool3d", ["x"], ["f"], {"norm_type": 3, "kernel_size": [1, 2, 3]}),
    ], ["b", "c", "d", "e", "f"]))
    put("model", "conv_modes.json", model([{"name": "x", "shape": [4, 5, 5]}], [
        node("reflect", "Conv2d", ["x"], ["a"], {"in_channels": 4, "out_channels": 2, "kernel_size": [3, 2],
                                                 "padding": "same", "padding_mode": "reflect", "groups": 2},
             {"weight": {"init": "kaiming_normal", "mode": "fan_out", "nonlinearity": "relu"}}),
        node("circular", "Conv2d", ["a"], ["b"], {"in_channels": 2, "out_channels": 2, "kernel_size": 2,
                                                  "padding": 1, "padding_mode": "circular", "dilation": 2,
                                                  "stride": 2, "bias": False},
             {"weight": {"init": "xavier_uniform", "gain": 0.5}}),
        node("replicate", "Conv2d", ["x"], ["c"], {"in_channels": 4, "out_channels": 4, "kernel_size": 1,
                                                   "padding": "valid", "padding_mode": "replicate", "groups": 4},
             {"bias": {"init": "constant", "val": 0.25}}),
    ], ["b", "c"]))
    put("model", "classifier.json", model([{"name": "x", "shape": [None, 6]},
                                           {"name": "t", "shape": [None], "dtype": "int64"}], [
        node("fc", "Linear", ["x"], ["h"], {"in_features": 6, "out_features": 4},
             {"weight": {"init": "normal", "std": 0.1}, "bias": {"init": "zeros"}}),
        node("act", "LeakyReLU", ["h"], ["a"], {"negative_slope": 0.2}),
        node("drop", "Dropout", ["a"], ["d"], {"p": 0.25}),
        node("tanh", "Tanh", ["d"], ["e"]),
        node("sig", "Sigmoid", ["e"], ["f"]),
        node("relu", "ReLU", ["f"], ["g"]),
        node("soft", "Softmax", ["g"], ["s"], {"dim": -1}),
        node("logsoft", "LogSoftmax", ["g"], ["l"], {"dim": 1}),
        node("loss", "CrossEntropyLoss", ["g", "t"], ["ce"], {"label_smoothing": 0.1, "ignore_index": 2}),
        node("mse", "MSELoss", ["s", "l"], ["m"], {"reduction": "sum"}),
    ], ["ce", "m"], seed=7))
    put("model", "batchnorm.json", model([{"name": "x", "shape": [2, 2, 3, 3]}], [
        node("bn", "BatchNorm2d", ["x"], ["y"], {"num_features": 2, "momentum": None, "affine": False}),
        node("bn2", "BatchNorm2d", ["y"], ["z"], {"num_features": 2, "track_running_stats": False, "eps": 0.1}),
    ], ["z"]))
    put("model", "nested_data.json", model([{"name": "x", "shape": [1, 1, 2, 2]}], [
        node("conv", "Conv2d", ["x"], ["y"], {"in_channels": 1, "out_channels": 2, "kernel_size": 2},
             {"weight": {"data": [[[[1, -1], [0.5, 2]]], None]}, "bias": {"data": [1, 2]}}),
    ], ["y"]))
    put("model", "out_of_order.json", model([{"name": "x", "shape": [3, 4]}], [
        node("b", "Softmax", ["h"], ["y"]),
        node("a", "Linear", ["x"], ["h"], {"in_features": 4, "out_features": 3}, {"weight": {"npy": "m.npy"}}),
    ], ["y", "h"]))
    put("model", "npy_param.json", model([{"name": "x", "shape": [1, 4]}], [
        node("fc", "Linear", ["x"], ["y"], {"in_features": 4, "out_features": 3},
             {"weight": {"npy": "m.npy"}, "bias": {"init": "uniform", "a": -1, "b": 1}}),
    ], ["y"]))
    put("model", "bad_attr.json", model(x4, [
        node("pool", "MaxPool2d", ["x"], ["y"], {"kernel_size": 2, "padding": 2}),
    ], ["y"]))
    put("model", "cycle.json", model(x4, [
        node("a", "ReLU", ["b_out"], ["a_out"]), node("b", "ReLU", ["a_out"], ["b_out"]),
    ], ["a_out"]))


def main():
    for folder in ROOT.glob("*"):
        for old in folder.glob("seed_*"):
            old.unlink()
    npy_seeds()
    safetensors_seeds()
    image_seeds()
    idx_seeds()
    model_seeds()
    for folder in sorted(ROOT.iterdir()):
        print(f"{folder.name}: {len(list(folder.iterdir()))} files")


if __name__ == "__main__":
    main()
