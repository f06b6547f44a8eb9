#!/usr/bin/python3
"""Small seed files for the fuzz harnesses: an .oqa file's metadata + payload split, IDX and CIFAR files,
PNG (RGB, grey) and BMP images, checkpoint headers. Usage: make_seeds.py CORPUS_DIR MODEL.oqa"""
import json
import struct
import sys
import zlib
from pathlib import Path


def oqa_metadata(model: bytes) -> bytes:
    raw, stored, payload = struct.unpack_from("<QQQ", model, 16)
    text = zlib.decompress(model[40:40 + stored])
    assert len(text) == raw
    return text + b"\0" + model[40 + stored:40 + stored + payload]


def idx_pair(count: int, rows: int, cols: int) -> bytes:
    images = struct.pack(">IIII", 0x803, count, rows, cols) + bytes((i * 37) & 0xFF for i in range(count * rows * cols))
    labels = struct.pack(">II", 0x801, count) + bytes(i % 10 for i in range(count))
    return struct.pack("<H", len(images)) + images + labels


def png(width: int, height: int, channels: int) -> bytes:
    colour = {1: 0, 3: 2}[channels]
    rows = b"".join(b"\0" + bytes(((x * 31 + y * 17 + c * 90) & 0xFF) for x in range(width) for c in range(channels))
                    for y in range(height))
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def bmp(width: int, height: int) -> bytes:
    row = (width * 3 + 3) // 4 * 4
    pixels = b"".join(bytes(((x * 13 + y * 29 + c * 70) & 0xFF) for x in range(width) for c in range(3)) +
                      b"\0" * (row - width * 3) for y in range(height))
    header = b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def main() -> None:
    out, model = Path(sys.argv[1]), Path(sys.argv[2]).read_bytes()
    (out / "oqa_metadata" / "tiny-w4a4-smallest.bin").write_bytes(oqa_metadata(model))
    (out / "idx" / "3x4x4.bin").write_bytes(idx_pair(3, 4, 4))
    (out / "idx" / "1x28x28.bin").write_bytes(idx_pair(1, 28, 28))
    record = bytes([3]) + bytes((i * 5) & 0xFF for i in range(3072))
    (out / "cifar" / "cifar10-2.bin").write_bytes(record * 2)
    (out / "cifar" / "cifar100-1.bin").write_bytes(bytes([1]) + record)
    (out / "image" / "rgb8.png").write_bytes(png(8, 8, 3))
    (out / "image" / "grey5x7.png").write_bytes(png(5, 7, 1))
    (out / "image" / "rgb6x3.bmp").write_bytes(bmp(6, 3))
    header = {"magic": "oqa-checkpoint", "format_version": 1, "config_hash": "0123456789abcdef", "stage": "w2a2",
              "step": 120, "epoch": 2, "batch": 7, "extra": {"done": False}}
    (out / "checkpoint_header" / "w2a2.json").write_text(json.dumps(header))
    header.update(stage="direct-w2a2-e3-lr0.02-tparent", extra={"done": True, "stage_steps": 300})
    (out / "checkpoint_header" / "direct.json").write_text(json.dumps(header))


if __name__ == "__main__":
    main()
