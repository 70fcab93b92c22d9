"""Draw the authenticator app's icons (PNG, no dependency): run once, commit the files.

    python scripts/make_app_icons.py

A white check mark in a ring on the app's dark blue: ``icon-192.png``, ``icon-512.png``
(rounded corners, transparent outside) and ``icon-maskable-512.png`` (full bleed, the
motif inside the maskable safe zone, a circle of 80% of the size).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "toopher_server" / "static" / "toopher_server" / "app"
BACKGROUND = (0x0F, 0x1A, 0x2E)
ACCENT = (0x9E, 0xC5, 0xFF)
WHITE = (0xFF, 0xFF, 0xFF)
SAMPLES = 4  # per axis, for smooth edges


Point = tuple[float, float]


def _segment_distance(px: float, py: float, a: Point, b: Point) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return ((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) ** 0.5


def _colour_at(x: float, y: float, maskable: bool) -> tuple[int, int, int, int]:
    """The colour at (x, y) in unit coordinates (0..1)."""
    if not maskable:  # rounded square, transparent corners
        r = 0.18
        cx, cy = min(max(x, r), 1 - r), min(max(y, r), 1 - r)
        if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
            return (0, 0, 0, 0)
    scale = 0.62 if maskable else 0.8  # the motif's size: inside the safe zone when maskable
    u, v = 0.5 + (x - 0.5) / scale, 0.5 + (y - 0.5) / scale
    ring = ((u - 0.5) ** 2 + (v - 0.5) ** 2) ** 0.5
    tick = min(
        _segment_distance(u, v, (0.30, 0.52), (0.44, 0.66)),
        _segment_distance(u, v, (0.44, 0.66), (0.71, 0.36)),
    )
    if tick < 0.055:
        return (*WHITE, 255)
    if 0.40 < ring < 0.47:
        return (*ACCENT, 255)
    return (*BACKGROUND, 255)


def draw(size: int, maskable: bool) -> bytes:
    """The icon as PNG bytes (RGBA, 8 bits per channel)."""
    rows = []
    for py in range(size):
        row = bytearray(b"\x00")  # filter type 0
        for px in range(size):
            total = [0, 0, 0, 0]
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES) / size
                    y = (py + (sy + 0.5) / SAMPLES) / size
                    for i, channel in enumerate(_colour_at(x, y, maskable)):
                        total[i] += channel
            row += bytes(round(c / SAMPLES**2) for c in total)
        rows.append(bytes(row))
    return _png(size, b"".join(rows))


def _png(size: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    )


def main() -> None:
    """Write the three icons."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in (
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("icon-maskable-512.png", 512, True),
    ):
        (OUT / name).write_bytes(draw(size, maskable))
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
