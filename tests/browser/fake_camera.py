"""A fake camera for Chromium that films a QR code.

Chromium plays a Y4M file as its camera with ``--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=FILE`` (and ``--use-fake-ui-for-media-stream`` grants
the permission). :func:`write_qr_video` writes such a file: YUV4MPEG2, 4:2:0, a few
frames of the QR code of a text, drawn black on white with its quiet zone and scaled
up, in the middle of a grey frame. The code is made by ``segno``, the encoder the
service's own QR image uses (API v1 ``qr/pairings/<id>``).

Chromium opens the file each time a page starts the camera, so a test may write another
code into the same file between two scans.
"""

from __future__ import annotations

from pathlib import Path

import segno

WIDTH, HEIGHT = 640, 480
FRAMES = 3
#: Luma of the frame around the code, of a light module and of a dark one.
BACKGROUND, LIGHT, DARK = 160, 235, 16
#: Modules of white around the code (the QR standard's quiet zone).
QUIET_ZONE = 4


def qr_luma(text: str | None, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The Y plane (one byte a pixel, rows top down) of a frame showing ``text``'s QR code
    (``None``: the empty frame, no code)."""
    if text is None:
        return bytes([BACKGROUND]) * (width * height)
    rows = [list(row) for row in segno.make(text, error="m").matrix_iter(border=QUIET_ZONE)]
    modules = len(rows)
    scale = min(width, height) * 9 // 10 // modules
    if scale < 2:
        raise ValueError(f"a QR code of {modules} modules does not fit {width}x{height}")
    size = modules * scale
    left, top = (width - size) // 2, (height - size) // 2
    frame = bytearray([BACKGROUND]) * (width * height)
    for y, row in enumerate(rows):
        line = bytes(DARK if dark else LIGHT for dark in row for _ in range(scale))
        for dy in range(scale):
            start = (top + y * scale + dy) * width + left
            frame[start : start + size] = line
    return bytes(frame)


def write_qr_video(path: Path, text: str | None, *, width: int = WIDTH, height: int = HEIGHT,
                   frames: int = FRAMES) -> Path:  # fmt: skip
    """Write a Y4M video of ``frames`` frames showing ``text``'s QR code (``None``: no
    code); returns ``path``."""
    if width % 2 or height % 2:
        raise ValueError("4:2:0 needs an even width and height")
    luma = qr_luma(text, width, height)
    chroma = bytes([128]) * ((width // 2) * (height // 2))  # no colour
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode("ascii")
    with path.open("wb") as video:
        video.write(header)
        for _ in range(frames):
            video.write(b"FRAME\n" + luma + chroma + chroma)
    return path
