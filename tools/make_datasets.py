#!/usr/bin/env python3
"""Makes two small colour data sets from Debian's Fashion-MNIST, to try oqa as a new user would:

  OUT/cifar-fm/   CIFAR-10 binary format (data_batch_1..5.bin, test_batch.bin): each 28 px image padded to
                  32 px at a random offset, foreground and background in random colours (3 channels).
  OUT/folder-fm/  ImageFolder (train/<class>/*.png, test/<class>/*.png): 36 px colour PNGs, the garment at a
                  random place, with a little noise.

usage: tools/make_datasets.py OUT [--train 5000] [--test 1000] [--seed 7]
"""
import argparse, gzip, os, struct, zlib

import numpy as np

SRC = "/usr/share/datasets/fashion-mnist"
CLASSES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]


def idx(name):
    with gzip.open(os.path.join(SRC, name)) as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def colourise(img, size, rng):
    """28x28 grey -> size x size x 3: random offset, random foreground / background colours, noise."""
    out = np.zeros((size, size), np.float32)
    oy, ox = rng.integers(0, size - 28 + 1, 2)
    out[oy:oy + 28, ox:ox + 28] = img / 255.0
    fg, bg = rng.uniform(0.3, 1.0, 3), rng.uniform(0.0, 0.5, 3)
    rgb = out[..., None] * fg + (1 - out[..., None]) * bg + rng.normal(0, 0.03, (size, size, 3))
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def png(path, rgb):
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    sets = {"train": (idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz"), a.train),
            "test": (idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz"), a.test)}
    cifar = os.path.join(a.out, "cifar-fm")
    os.makedirs(cifar, exist_ok=True)
    for split, (images, labels, n) in sets.items():
        pick = rng.permutation(len(images))[:n]
        recs = [bytes([labels[i]]) + colourise(images[i], 32, rng).transpose(2, 0, 1).tobytes() for i in pick]
        if split == "test":
            with open(os.path.join(cifar, "test_batch.bin"), "wb") as f:
                f.write(b"".join(recs))
        else:
            for b in range(5):
                with open(os.path.join(cifar, f"data_batch_{b + 1}.bin"), "wb") as f:
                    f.write(b"".join(recs[b::5]))
        for c in CLASSES:
            os.makedirs(os.path.join(a.out, "folder-fm", split, c), exist_ok=True)
        for k, i in enumerate(rng.permutation(len(images))[:n]):
            png(os.path.join(a.out, "folder-fm", split, CLASSES[labels[i]], f"{k:05d}.png"), colourise(images[i], 36, rng))
    print(f"make_datasets: {cifar} and {os.path.join(a.out, 'folder-fm')} ({a.train} train / {a.test} test images)")


if __name__ == "__main__":
    main()
