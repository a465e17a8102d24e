#!/usr/bin/python3
"""Writes the file-format conformance cases that io_conformance checks.

    /usr/bin/python3 tests/io/gen_io_cases.py OUTDIR --seed S

Everything is deterministic from the seed. OUTDIR/cases.tsv lists one case
per line (tab-separated, first field the kind); expected values are raw
little-endian binaries, so checking them never goes through the reader
under test:

  image     FILE EXPECT REASON H W L.bin RGB.bin
            EXPECT "match": Pillow 9.4 decoded the file; L.bin and RGB.bin are
            np.array(Image.open(FILE).convert("L"/"RGB")) as uint8 (RGB.bin
            empty: only L is checked).
            EXPECT "refuse": Pillow failed, or mininn deliberately refuses a
            file Pillow decodes; REASON is a substring of mininn's message
            (empty when Pillow itself failed).
  npy       FILE WANT EXPECT SHAPE BIN-or-REASON
            WANT any|float32|int64; EXPECT float32|int64 (BIN holds numpy's
            astype of the array) or refuse (REASON: message substring).
  npy_write FILE      (written by np.save; reading and re-writing it must
                       give the same bytes)
  rng       SEED OPS BIN
            OPS: ';'-separated u,N,FROM,TO | n,N,MEAN,STD | p,N run in order
            after torch.manual_seed(SEED); BIN concatenates the results
            (float32 for u and n, int64 for p).
  normal_exhaustive OUT.bin
            torch.normal_ on crafted generator states: pair k feeds the draw
            k as u1's and (k * 2654435761 + 12345) mod 2^24 as u2's, so every
            24-bit value goes through both halves of torch's vectorised
            Box-Muller; OUT.bin holds the cos and sin results of each pair.
"""

import argparse
import glob
import io
import math
import os
import random
import shutil
import struct
import sys
import zlib

import numpy as np
import torch
from PIL import Image

SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"


class Cases:
    def __init__(self, out):
        self.out = out
        self.lines = []
        self.counter = 0

    def path(self, sub, name):
        os.makedirs(os.path.join(self.out, sub), exist_ok=True)
        self.counter += 1
        return os.path.join(sub, f"{self.counter:05d}_{name}")

    def write(self, rel, data):
        with open(os.path.join(self.out, rel), "wb") as f:
            f.write(data)

    def add(self, *fields):
        self.lines.append("\t".join(str(f) for f in fields))

    def save(self):
        with open(os.path.join(self.out, "cases.tsv"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


# ---- Images ----------------------------------------------------------------


def pillow_pixels(data):
    """Pillow's L and RGB arrays for the file, or None if Pillow fails."""
    try:
        l_array = np.array(Image.open(io.BytesIO(data)).convert("L"))
        rgb_array = np.array(Image.open(io.BytesIO(data)).convert("RGB"))
    except Exception:
        return None
    assert l_array.dtype == np.uint8 and rgb_array.shape == l_array.shape + (3,)
    return l_array, rgb_array


def add_image(cases, name, data, refuse_reason=None, gray_only=False):
    """Records an image case; refuse_reason marks a file mininn refuses on purpose."""
    rel = cases.path("images", name)
    cases.write(rel, data)
    pixels = pillow_pixels(data)
    if refuse_reason is not None:
        cases.add("image", rel, "refuse", refuse_reason, 0, 0, "", "")
    elif pixels is None:
        cases.add("image", rel, "refuse", "", 0, 0, "", "")
    else:
        l_array, rgb_array = pixels
        cases.write(rel + ".L.bin", l_array.tobytes())
        if not gray_only:
            cases.write(rel + ".RGB.bin", rgb_array.tobytes())
        h, w = l_array.shape
        cases.add("image", rel, "match", "", h, w, rel + ".L.bin", "" if gray_only else rel + ".RGB.bin")
    return pixels


def random_content(rng, h, w, channels):
    """Noise, gradients or flat areas: what stresses codecs differently."""
    kind = rng.randint(3)
    if kind == 0:
        a = rng.randint(0, 256, (h, w, channels))
    elif kind == 1:
        y, x = np.mgrid[0:h, 0:w]
        base = (x * rng.uniform(0.5, 4) + y * rng.uniform(0.5, 4))[..., None] + rng.uniform(0, 255, channels)
        a = np.mod(base + rng.normal(0, 12, (h, w, channels)), 256)
    else:
        a = np.repeat(np.repeat(rng.randint(0, 256, ((h + 7) // 8, (w + 7) // 8, channels)), 8, 0), 8, 1)[:h, :w]
    a = a.astype(np.uint8)
    return a[..., 0] if channels == 1 else a


SIZES = [(1, 1), (1, 17), (13, 1), (2, 2), (7, 13), (8, 8), (9, 15), (16, 16), (17, 33), (31, 64), (33, 17),
         (64, 48), (65, 97), (100, 3)]


def random_size(rng):
    if rng.randint(2):
        return SIZES[rng.randint(len(SIZES))]
    return int(rng.randint(1, 120)), int(rng.randint(1, 120))


def pil_save(image, fmt, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def gen_jpeg(cases, rng):
    for quality in [1, 5, 30, 50, 75, 90, 95, 100]:
        for subsampling in [0, 1, 2]:
            for progressive in [False, True]:
                h, w = random_size(rng)
                image = Image.fromarray(random_content(rng, h, w, 3), "RGB")
                data = pil_save(image, "JPEG", quality=quality, subsampling=subsampling, progressive=progressive)
                add_image(cases, f"q{quality}_s{subsampling}_p{int(progressive)}_{w}x{h}.jpg", data)
    for i in range(12):
        h, w = random_size(rng)
        gray = Image.fromarray(random_content(rng, h, w, 1), "L")
        add_image(cases, f"gray_{i}_{w}x{h}.jpg", pil_save(gray, "JPEG", quality=int(rng.randint(10, 100)),
                                                           progressive=bool(i % 2)))
    for i in range(8):
        h, w = random_size(rng)
        cmyk = Image.fromarray(np.dstack([random_content(rng, h, w, 3), random_content(rng, h, w, 1)]), "CMYK")
        add_image(cases, f"cmyk_{i}_{w}x{h}.jpg", pil_save(cmyk, "JPEG", quality=int(rng.randint(30, 100))))
    # Odd sizes with 4:2:0, where fancy upsampling meets the edges.
    for w, h in [(1, 1), (2, 1), (1, 2), (3, 3), (15, 17), (17, 15), (255, 1), (1, 255)]:
        image = Image.fromarray(random_content(rng, h, w, 3), "RGB")
        add_image(cases, f"edge_{w}x{h}.jpg", pil_save(image, "JPEG", quality=85, subsampling=2))
    # EXIF orientation and an ICC profile must not change the pixels.
    h, w = 24, 40
    image = Image.fromarray(random_content(rng, h, w, 3), "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    add_image(cases, "exif_orientation6.jpg", pil_save(image, "JPEG", exif=exif.tobytes()))
    add_image(cases, "icc.jpg", pil_save(image, "JPEG", icc_profile=b"\0" * 200))
    # Truncated files and a missing EOI marker: Pillow refuses them all.
    image = Image.fromarray(random_content(rng, 48, 64, 3), "RGB")
    for progressive in [False, True]:
        data = pil_save(image, "JPEG", quality=80, progressive=progressive)
        for cut in [2, 1, 50, len(data) // 2, len(data) - 300]:
            add_image(cases, f"truncated_p{int(progressive)}_cut{cut}.jpg", data[:-cut])
        add_image(cases, f"trailing_garbage_p{int(progressive)}.jpg", data + b"garbage after EOI")
    # Corrupted entropy data: whatever Pillow makes of it, we must too.
    for i in range(12):
        data = bytearray(pil_save(Image.fromarray(random_content(rng, 40, 56, 3), "RGB"), "JPEG",
                                  quality=70, progressive=bool(i % 2)))
        start = data.find(b"\xff\xda")
        for _ in range(1 + i % 3):
            position = int(rng.randint(start + 20, len(data) - 2))
            data[position] = int(rng.randint(256))
        add_image(cases, f"corrupt_{i}.jpg", bytes(data))


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """One scanline of samples (1-d, already interleaved) at `depth` bits."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per_byte = 8 // depth
    padded = np.zeros(((len(samples) + per_byte - 1) // per_byte) * per_byte, np.uint32)
    padded[: len(samples)] = samples
    padded = padded.reshape(-1, per_byte)
    out = np.zeros(len(padded), np.uint32)
    for i in range(per_byte):
        out |= padded[:, i] << (8 - depth * (i + 1))
    return out.astype(np.uint8).tobytes()


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def make_png(samples, depth, color_type, palette=None, trns=None, interlace=False, extra=b""):
    """A PNG written by hand: samples is (h, w) or (h, w, c) of raw sample values."""
    if samples.ndim == 2:
        samples = samples[..., None]
    h, w, c = samples.shape
    raw = b""
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub:
            raw += b"\0" + pack_row(row.reshape(-1), depth)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0,
                                                                  int(interlace)))
    out += extra
    if palette is not None:
        out += png_chunk(b"PLTE", bytes(palette))
    if trns is not None:
        out += png_chunk(b"tRNS", trns)
    return out + png_chunk(b"IDAT", zlib.compress(raw, 6)) + png_chunk(b"IEND", b"")


def gen_png(cases, rng):
    # Every colour type and bit depth, plain and interlaced.
    combos = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8), (4, 8),
              (4, 16), (6, 8), (6, 16)]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
    for color_type, depth in combos:
        for interlace in [False, True]:
            for i in range(3):
                h, w = random_size(rng)
                c = channels[color_type]
                top = (1 << depth) - 1
                if depth == 16 and color_type == 0 and i == 0:
                    samples = rng.randint(0, 300, (h, w, c))  # around the clipping point of mode "I"
                else:
                    samples = rng.randint(0, top + 1, (h, w, c))
                palette = trns = None
                if color_type == 3:
                    entries = int(rng.randint(1, (1 << depth) + 1))
                    if i == 2:
                        entries = max(1, (1 << depth) // 2)  # indices past the palette: Pillow's gray ramp
                    palette = rng.randint(0, 256, entries * 3).astype(np.uint8)
                    if i == 1:
                        trns = bytes(rng.randint(0, 256, entries).astype(np.uint8))
                elif color_type in (0, 2) and i == 1:
                    trns = struct.pack(">" + "H" * c, *[int(rng.randint(0, top + 1)) for _ in range(c)])
                extra = png_chunk(b"gAMA", struct.pack(">I", 45455)) if i == 0 else b""
                data = make_png(samples, depth, color_type, palette, trns, interlace, extra)
                add_image(cases, f"ct{color_type}_d{depth}_i{int(interlace)}_{i}_{w}x{h}.png", data)
    # What Pillow itself writes, every mode it saves as PNG.
    for mode in ["1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I"]:
        for i in range(3):
            h, w = random_size(rng)
            if mode in ("RGB", "RGBA", "LA"):
                arr = random_content(rng, h, w, len(mode))
                image = Image.fromarray(arr, mode)
            elif mode == "P":
                image = Image.fromarray(random_content(rng, h, w, 3), "RGB").quantize(int(rng.randint(2, 256)))
                if i == 1:
                    image.info["transparency"] = 0
            elif mode == "1":
                image = Image.fromarray(random_content(rng, h, w, 1), "L").convert("1")
            elif mode == "I;16":
                image = Image.fromarray(rng.randint(0, 1024, (h, w)).astype(np.uint16), "I;16")
            elif mode == "I":
                image = Image.fromarray(rng.randint(-10, 400, (h, w)).astype(np.int32), "I")
            else:
                image = Image.fromarray(random_content(rng, h, w, 1), "L")
            kwargs = {"optimize": True} if i == 2 else {}
            if mode == "P" and i == 1:
                kwargs["transparency"] = 0
            add_image(cases, f"pil_{mode.replace(';', '')}_{i}_{w}x{h}.png", pil_save(image, "PNG", **kwargs))
    # Broken files: truncated anywhere, a bad CRC in the image data.
    data = make_png(rng.randint(0, 256, (30, 40, 3)), 8, 2)
    for cut in [1, 12, 30, len(data) // 2, len(data) - 40]:
        add_image(cases, f"truncated_cut{cut}.png", data[:-cut])
    bad = bytearray(data)
    bad[data.find(b"IDAT") + 10] ^= 0x55
    add_image(cases, "bad_idat.png", bytes(bad))


def make_bmp(pixels, bits, palette=None, header_size=40, top_down=False, compression=0, masks=None,
             colors_used=None, gap=0, fix_offset=False):
    """A BMP written by hand. pixels: (h, w) indices for bits <= 8, (h, w, 3|4) RGB(A) bytes otherwise."""
    h, w = pixels.shape[:2]
    stride = ((w * bits + 31) >> 3) & ~3
    rows = []
    for row in pixels:
        if bits <= 8:
            data = pack_row(row.reshape(-1), bits)
        elif bits == 16:
            data = row.astype("<u2").tobytes()
        elif bits == 24:
            data = row[:, [2, 1, 0]].astype(np.uint8).tobytes()
        else:
            data = row.astype(np.uint8).tobytes()  # caller arranges the 4 bytes
        rows.append(data + b"\0" * (stride - len(data)))
    if not top_down:
        rows.reverse()
    pixel_data = b"".join(rows)
    entry = 3 if header_size == 12 else 4
    palette_bytes = b""
    if palette is not None:
        for r, g, b in palette:
            palette_bytes += bytes([b, g, r]) + (b"\0" if entry == 4 else b"")
    if header_size == 12:
        info = struct.pack("<IHHHH", 12, w, h, 1, bits)
    else:
        height = (2 ** 32 - h) if top_down else h
        colors = colors_used if colors_used is not None else (0 if palette is None else len(palette))
        info = struct.pack("<IiIHHIIiiII", header_size, w, height, 1, bits, compression, len(pixel_data), 2835,
                           2835, colors, 0)
        extra = b""
        if masks is not None:
            extra = struct.pack("<" + "I" * len(masks), *masks)
        if header_size > 40:
            info += (extra + b"\0" * 200)[: header_size - 40]
        else:
            info += extra  # 40-byte headers keep the masks after the header
    offset = 14 + len(info) + len(palette_bytes) + gap
    if fix_offset:
        offset = 14 + header_size  # a writer that forgot the palette; Pillow repairs it
    header = b"BM" + struct.pack("<IHHI", 14 + len(info) + len(palette_bytes) + gap + len(pixel_data), 0, 0, offset)
    return header + info + palette_bytes + b"\0" * gap + pixel_data


def gen_bmp(cases, rng):
    # What Pillow writes: 1-bit, 8-bit gray and palette, 24-bit, 32-bit BGRA.
    for mode in ["1", "L", "P", "RGB", "RGBA"]:
        for i in range(4):
            h, w = random_size(rng)
            if mode == "1":
                image = Image.fromarray(random_content(rng, h, w, 1), "L").convert("1")
            elif mode == "L":
                image = Image.fromarray(random_content(rng, h, w, 1), "L")
            elif mode == "P":
                image = Image.fromarray(random_content(rng, h, w, 3), "RGB").quantize(int(rng.randint(2, 256)))
            else:
                image = Image.fromarray(random_content(rng, h, w, len(mode)), mode)
            add_image(cases, f"pil_{mode}_{i}_{w}x{h}.bmp", pil_save(image, "BMP"))
    # Hand-made: every palette depth, both row orders, OS/2 and V4/V5 headers,
    # short palettes with indices past them, gaps before the pixels.
    for bits in [1, 4, 8]:
        for header_size in [12, 40, 108, 124]:
            for top_down in ([False] if header_size == 12 else [False, True]):
                h, w = random_size(rng)
                colors = int(rng.randint(1, (1 << bits) + 1)) if header_size != 12 else 1 << bits
                palette = [tuple(int(v) for v in rng.randint(0, 256, 3)) for _ in range(colors)]
                indices = rng.randint(0, 1 << bits, (h, w))
                data = make_bmp(indices, bits, palette, header_size, top_down,
                                colors_used=colors if header_size != 12 else None, gap=int(rng.randint(0, 2)) * 8)
                add_image(cases, f"pal{bits}_h{header_size}_td{int(top_down)}_{w}x{h}.bmp", data)
    for bits in [24, 32]:
        for header_size in [40, 108, 124]:
            for top_down in [False, True]:
                for gap in [0, 4]:
                    h, w = random_size(rng)
                    if bits == 24:
                        pixels = rng.randint(0, 256, (h, w, 3))
                    else:
                        pixels = rng.randint(0, 256, (h, w, 4))  # B, G, R, X
                    data = make_bmp(pixels, bits, None, header_size, top_down, gap=gap)
                    add_image(cases, f"rgb{bits}_h{header_size}_td{int(top_down)}_gap{gap}_{w}x{h}.bmp", data)
    # 32-bit bit fields: the layouts Pillow reads, and one it does not.
    layouts = {"BGRX": (0xFF0000, 0xFF00, 0xFF, 0), "XBGR": (0xFF000000, 0xFF0000, 0xFF00, 0),
               "ABGR": (0xFF000000, 0xFF0000, 0xFF00, 0xFF), "RGBA": (0xFF, 0xFF00, 0xFF0000, 0xFF000000),
               "BGRA": (0xFF0000, 0xFF00, 0xFF, 0xFF000000), "zero": (0, 0, 0, 0),
               "odd": (0xFF00, 0xFF0000, 0xFF000000, 0xFF)}
    for name, masks in layouts.items():
        for header_size in [40, 108]:
            h, w = random_size(rng)
            pixels = rng.randint(0, 256, (h, w, 4))
            use = masks if header_size > 40 else masks[:3]
            if header_size == 40 and masks[3] != 0:
                continue  # a 40-byte header carries no alpha mask
            data = make_bmp(pixels, 32, None, header_size, compression=3, masks=use)
            add_image(cases, f"bitfields_{name}_h{header_size}_{w}x{h}.bmp", data)
    h, w = 9, 11
    data = make_bmp(rng.randint(0, 256, (h, w, 3)), 24, None, 40, compression=3, masks=(0xFF0000, 0xFF00, 0xFF))
    add_image(cases, "bitfields_24.bmp", data)
    # A palette file whose offset forgot the palette (Pillow repairs it).
    palette = [tuple(int(v) for v in rng.randint(0, 256, 3)) for _ in range(16)]
    add_image(cases, "pal4_offset_repaired.bmp",
              make_bmp(rng.randint(0, 16, (10, 13)), 4, palette, 40, colors_used=16, fix_offset=True))
    # Deliberately refused: 16-bit (stb and Pillow round 5/6-bit channels
    # differently), RLE (stb cannot), gray-ramp palettes Pillow misreads.
    add_image(cases, "rgb16_555.bmp", make_bmp(rng.randint(0, 1 << 15, (6, 7)), 16), "16-bit BMP")
    add_image(cases, "rgb16_565.bmp", make_bmp(rng.randint(0, 1 << 16, (6, 7)), 16, compression=3,
                                               masks=(0xF800, 0x7E0, 0x1F)), "16-bit BMP")
    rle = Image.fromarray(random_content(rng, 20, 30, 3), "RGB").quantize(16)
    add_image(cases, "rle8.bmp", rle8_bmp(rle), "RLE-compressed")
    ramp16 = [(i, i, i) for i in range(16)]
    add_image(cases, "pal4_grayramp.bmp", make_bmp(rng.randint(0, 16, (5, 6)), 4, ramp16, 40, colors_used=16),
              "misreads")
    add_image(cases, "pal8_bw.bmp", make_bmp(rng.randint(0, 2, (5, 6)), 8, [(0, 0, 0), (255, 255, 255)], 40,
                                             colors_used=2), "misreads")
    # Broken: truncated pixels or palette.
    data = make_bmp(rng.randint(0, 256, (12, 10, 3)), 24)
    for cut in [1, 2, 3, 30, len(data) - 60]:
        add_image(cases, f"truncated_cut{cut}.bmp", data[:-cut])


def rle8_bmp(image):
    """An 8-bit RLE BMP (Pillow decodes these; mininn refuses them)."""
    indices = np.array(image)
    h, w = indices.shape
    body = b""
    for row in indices[::-1]:
        for value in row:
            body += bytes([1, int(value)])
        body += b"\0\0"
    body += b"\0\1"
    palette = image.getpalette()[: 256 * 3]
    palette_bytes = b"".join(bytes([palette[3 * i + 2], palette[3 * i + 1], palette[3 * i], 0]) for i in range(256))
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 1, len(body), 2835, 2835, 256, 0)
    offset = 14 + 40 + len(palette_bytes)
    return b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset) + info + palette_bytes + body


def gen_photos(cases):
    for path in sorted(glob.glob(os.path.join(SKIMAGE_DATA, "*.jpg")) + glob.glob(os.path.join(SKIMAGE_DATA, "*.png"))):
        with open(path, "rb") as f:
            data = f.read()
        add_image(cases, "skimage_" + os.path.basename(path), data)


def gen_all_colours(cases):
    """convert("L") of every one of the 2^24 colours (RGB.bin skipped: 48 MB)."""
    v = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], -1).astype(np.uint8).reshape(4096, 4096, 3)
    add_image(cases, "all_colours_4096x4096.png", pil_save(Image.fromarray(rgb, "RGB"), "PNG", compress_level=1),
              gray_only=True)


def gen_disguised(cases, rng):
    """Content decides the format, not the extension."""
    image = Image.fromarray(random_content(rng, 20, 30, 3), "RGB")
    add_image(cases, "png_named.jpg", pil_save(image, "PNG"))
    add_image(cases, "jpeg_named.png", pil_save(image, "JPEG"))
    add_image(cases, "bmp_named.png", pil_save(image, "BMP"))
    add_image(cases, "gif.gif", pil_save(image, "GIF"), "GIF images are not supported")
    add_image(cases, "text.png", b"this is not an image at all", "not a PNG, JPEG or BMP")


# ---- npy ---------------------------------------------------------------------


def npy_bytes(array, version=None):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version, allow_pickle=True)
    return buffer.getvalue()


def add_npy(cases, name, data, want, expect, array=None, reason=""):
    rel = cases.path("npy", name)
    cases.write(rel, data)
    if expect == "refuse":
        cases.add("npy", rel, want, "refuse", "", reason)
        return
    with np.errstate(over="ignore", invalid="ignore"):
        expected = array.astype(np.float32 if expect == "float32" else np.int64)
    cases.write(rel + ".bin", np.ascontiguousarray(expected).tobytes())
    cases.add("npy", rel, want, expect, ",".join(str(d) for d in array.shape), rel + ".bin")


def gen_npy(cases, rng):
    shapes = [(), (0,), (1,), (7,), (3, 4), (2, 3, 5), (1, 1, 1, 1), (4, 0, 2)]
    info = {"f2": np.float16, "f4": np.float32, "f8": np.float64, "i1": np.int8, "i2": np.int16, "i4": np.int32,
            "i8": np.int64, "u1": np.uint8, "u2": np.uint16, "u4": np.uint32, "u8": np.uint64, "b1": np.bool_}
    for code, dtype in info.items():
        for shape in shapes:
            count = int(np.prod(shape))
            if code.startswith("f"):
                values = rng.normal(0, 10 ** rng.randint(-3, 6), count)
            elif code == "b1":
                values = rng.randint(0, 2, count)
            else:
                limits = np.iinfo(dtype)
                values = rng.randint(max(limits.min, -2 ** 62), min(limits.max, 2 ** 62), count, dtype=np.int64)
            array = values.astype(dtype).reshape(shape)
            for version in [None, (2, 0), (3, 0)] if shape == (3, 4) else [None]:
                data = npy_bytes(array, version)
                v = "" if version is None else f"_v{version[0]}"
                name = f"{code}_{'x'.join(map(str, shape)) or 'scalar'}{v}.npy"
                if code.startswith("f"):
                    add_npy(cases, name, data, "any", "float32", array)
                    add_npy(cases, "f32_" + name, data, "float32", "float32", array)
                    add_npy(cases, "i64_" + name, data, "int64", "refuse", reason="floating-point data")
                else:
                    add_npy(cases, name, data, "any", "int64", array)
                    add_npy(cases, "f32_" + name, data, "float32", "float32", array)
                    add_npy(cases, "i64_" + name, data, "int64", "int64", array)
    # Values at the edges of each conversion.
    every_half = np.arange(65536, dtype=np.uint16).view(np.float16)
    add_npy(cases, "every_float16.npy", npy_bytes(every_half), "any", "float32", every_half)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 1e-40, 3.4028235e38, 1e39, -1e39, 1e-50,
                         0.1, 1 / 3, 16777217.0, 2.0 ** -149, 2.0 ** -150, 2.0 ** -151 * 3], dtype=np.float64)
    add_npy(cases, "f8_specials.npy", npy_bytes(specials), "any", "float32", specials)
    with np.errstate(over="ignore"):
        specials32 = specials.astype(np.float32)
    add_npy(cases, "f4_specials.npy", npy_bytes(specials32), "any", "float32", specials32)
    big_ints = np.array([2 ** 24 + 1, 2 ** 53 + 1, -2 ** 63, 2 ** 63 - 1, 123456789], dtype=np.int64)
    add_npy(cases, "i8_to_f32.npy", npy_bytes(big_ints), "float32", "float32", big_ints)
    u8_ok = np.array([0, 2 ** 63 - 1], dtype=np.uint64)
    add_npy(cases, "u8_max_ok.npy", npy_bytes(u8_ok), "any", "int64", u8_ok)
    u8_big = np.array([1, 2 ** 63], dtype=np.uint64)
    add_npy(cases, "u8_too_big.npy", npy_bytes(u8_big), "any", "refuse", reason="does not fit in int64")
    add_npy(cases, "u8_too_big_as_f32.npy", npy_bytes(u8_big), "float32", "float32", u8_big)
    # What mininn refuses, written by numpy itself.
    a = rng.normal(size=(3, 4)).astype(np.float32)
    add_npy(cases, "big_endian_f4.npy", npy_bytes(a.astype(">f4")), "any", "refuse", reason="big-endian")
    add_npy(cases, "big_endian_i8.npy", npy_bytes(a.astype(">i8")), "any", "refuse", reason="big-endian")
    add_npy(cases, "fortran.npy", npy_bytes(np.asfortranarray(a)), "any", "refuse", reason="Fortran-ordered")
    row = np.asfortranarray(rng.normal(size=(1, 6)).astype(np.float32))
    add_npy(cases, "fortran_row.npy", npy_bytes(row), "any", "float32", row)
    add_npy(cases, "object.npy", npy_bytes(np.array([1, "a", None], dtype=object)), "any", "refuse",
            reason="object arrays")
    structured = np.zeros(3, dtype=[("x", "<f4"), ("y", "<i4")])
    add_npy(cases, "structured.npy", npy_bytes(structured), "any", "refuse", reason="structured dtypes")
    add_npy(cases, "complex.npy", npy_bytes(np.ones(2, np.complex64)), "any", "refuse", reason="unsupported dtype")
    add_npy(cases, "unicode.npy", npy_bytes(np.array(["ab", "c"])), "any", "refuse", reason="unsupported dtype")
    add_npy(cases, "datetime.npy", npy_bytes(np.array(["2020-01-01"], dtype="M8[D]")), "any", "refuse",
            reason="unsupported dtype")
    good = npy_bytes(a)
    add_npy(cases, "truncated_data.npy", good[:-1], "any", "refuse", reason="truncated data")
    add_npy(cases, "trailing.npy", good + b"\0", "any", "refuse", reason="unexpected bytes after the data")
    add_npy(cases, "truncated_header.npy", good[:50], "any", "refuse", reason="truncated header")
    add_npy(cases, "bad_magic.npy", b"\x93NUMPZ" + good[6:], "any", "refuse", reason="not a .npy file")
    # np.save output that mininn writes back byte for byte.
    for dtype in [np.float32, np.int64]:
        for shape in [(), (1,), (5,), (2, 3), (2, 3, 4, 5), (0, 3), (1000,)]:
            array = (rng.normal(size=shape) * 100).astype(dtype)
            rel = cases.path("npy", f"write_{np.dtype(dtype).str[1:]}_{'x'.join(map(str, shape)) or 'scalar'}.npy")
            buffer = io.BytesIO()
            np.save(buffer, array)
            cases.write(rel, buffer.getvalue())
            cases.add("npy_write", rel)


# ---- torch's generator ---------------------------------------------------------


def run_ops(seed, ops):
    torch.manual_seed(seed)
    out = b""
    for op in ops:
        kind, n = op[0], op[1]
        if kind == "u":
            out += torch.empty(n).uniform_(op[2], op[3]).numpy().tobytes()
        elif kind == "n":
            out += torch.empty(n).normal_(op[2], op[3]).numpy().tobytes()
        else:
            out += torch.randperm(n).numpy().astype("<i8").tobytes()
    return out


def add_rng(cases, seed, ops):
    rel = cases.path("rng", f"seed{seed}.bin")
    cases.write(rel, run_ops(seed, ops))
    text = ";".join(",".join(repr(x) if isinstance(x, float) else str(x) for x in op) for op in ops)
    cases.add("rng", seed, text, rel)


def gen_rng(cases, rng):
    seeds = [0, 1, 2, 3, 7, 42, 1234, 2 ** 31 - 1, 2 ** 32 - 1, 2 ** 32 + 5, 2 ** 63 + 3, 2 ** 64 - 1]
    seeds += [int(s) for s in rng.randint(0, 2 ** 62, 8)]
    sizes = list(range(1, 41)) + [100, 1000]
    fans = [1, 3, 9, 27, 64, 75, 128, 1152, 4608]
    for seed in seeds:
        for n in sizes:
            bound = 1 / math.sqrt(fans[n % len(fans)])  # kaiming_uniform_(a=sqrt(5)) bound for a fan_in
            add_rng(cases, seed, [("u", n, -bound, bound)])
            add_rng(cases, seed, [("n", n, 0.0, 1.0)])
        # Sequences: the scalar path's cached value carries across calls.
        add_rng(cases, seed, [("n", 3, 0.0, 1.0), ("n", 3, 0.3, 1.7), ("u", 5, 0.0, 1.0), ("n", 1, -2.0, 0.02),
                              ("n", 17, 1.0, 0.1), ("n", 5, 0.0, 0.02), ("p", 10), ("u", 16, 2.5, 7.25)])
        add_rng(cases, seed, [("u", 33, 0.0, 1.0), ("u", 7, -100.0, 1e-5), ("u", 4, 3.0, 3.0), ("n", 2, 0.0, 0.0)])
        for n in [0, 1, 2, 3, 10, 40, 100, 1000, 100000]:
            add_rng(cases, seed, [("p", n)])


def untemper(y):
    y = y.astype(np.uint64)
    y ^= y >> np.uint64(18)
    y ^= (y << np.uint64(15)) & np.uint64(0xEFC60000)
    t = y
    for _ in range(5):
        t = y ^ ((t << np.uint64(7)) & np.uint64(0x9D2C5680))
    y = t & np.uint64(0xFFFFFFFF)
    t = y
    for _ in range(3):
        t = y ^ (t >> np.uint64(11))
    return (t & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def gen_normal_exhaustive(cases):
    """Every 24-bit uniform through torch's vectorised normal_, via crafted states.

    torch's state (torch.get_rng_state(), 5056 bytes) holds the seed, `left`,
    `seeded`, `next` and 624 state words as uint64; with left=624, next=0 the
    next 623 draws are temper(word[0..622]) without a twist.
    """
    n = 1 << 24
    pairs_per_call = 304  # 38 blocks of 16 draws: 608 <= 623
    k1 = np.arange(n, dtype=np.uint64)
    k2 = ((k1 * np.uint64(2654435761) + np.uint64(12345)) % np.uint64(n)).astype(np.uint32)
    state = torch.get_rng_state().numpy().copy()
    header = bytearray(state[:24].tobytes())
    header[8:12] = struct.pack("<i", 624)
    header[12:16] = struct.pack("<i", 1)
    header[16:24] = struct.pack("<Q", 0)
    state[:24] = np.frombuffer(bytes(header), np.uint8)
    state[-12:] = 0  # no cached normal samples
    out = np.empty(2 * n, np.float32)
    tensor = torch.empty(2 * pairs_per_call)
    for start in range(0, n, pairs_per_call):
        stop = min(n, start + pairs_per_call)
        a1 = np.zeros(pairs_per_call, np.uint64)
        a2 = np.zeros(pairs_per_call, np.uint64)
        a1[: stop - start] = k1[start:stop]
        a2[: stop - start] = k2[start:stop]
        draws = np.empty((pairs_per_call // 8, 16), np.uint64)
        draws[:, :8] = a1.reshape(-1, 8)
        draws[:, 8:] = a2.reshape(-1, 8)
        words = np.zeros(624, np.uint64)
        words[: 2 * pairs_per_call] = untemper(draws.reshape(-1))
        state[24: 24 + 624 * 8] = np.frombuffer(words.tobytes(), np.uint8)
        torch.set_rng_state(torch.from_numpy(state))
        tensor.normal_(0.0, 1.0)
        values = tensor.numpy().reshape(-1, 16)
        pairs = np.stack([values[:, :8].reshape(-1), values[:, 8:].reshape(-1)], 1)
        out[2 * start: 2 * stop] = pairs[: stop - start].reshape(-1)
    os.makedirs(os.path.join(cases.out, "rng"), exist_ok=True)
    cases.write("rng/exhaustive_normal.bin", out.tobytes())
    cases.add("normal_exhaustive", "rng/exhaustive_normal.bin")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-exhaustive", action="store_true", help="skip the 2^24-pair normal_ check (128 MB)")
    args = parser.parse_args()
    # Start from nothing, so that no case of an earlier run lingers.
    for sub in ["images", "npy", "rng"]:
        shutil.rmtree(os.path.join(args.outdir, sub), ignore_errors=True)
    os.makedirs(args.outdir, exist_ok=True)
    torch.set_num_threads(1)
    cases = Cases(args.outdir)
    rng = np.random.RandomState(args.seed)
    random.seed(args.seed)
    gen_jpeg(cases, rng)
    gen_png(cases, rng)
    gen_bmp(cases, rng)
    gen_photos(cases)
    gen_all_colours(cases)
    gen_disguised(cases, rng)
    gen_npy(cases, rng)
    gen_rng(cases, rng)
    if not args.no_exhaustive:
        gen_normal_exhaustive(cases)
    cases.save()
    kinds = {}
    for line in cases.lines:
        kinds[line.split("\t")[0]] = kinds.get(line.split("\t")[0], 0) + 1
    print(f"wrote {len(cases.lines)} cases to {args.outdir}: " + ", ".join(f"{v} {k}" for k, v in kinds.items()))


if __name__ == "__main__":
    sys.exit(main())
