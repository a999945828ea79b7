"""Generators for good, odd and bad image files used by ``test_imaging.py``.

Everything is built with Pillow / pillow-heif / by hand in memory; nothing is stored in the repo.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

RED, BLUE = (255, 0, 0), (0, 0, 255)
UPRIGHT_SIZE = (60, 40)  # (width, height) of the upright test picture

# Transpose that undoes each EXIF orientation (what a camera did to the upright picture).
_STORE_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def datasets_dir() -> Path:
    env = os.environ.get("FACEGATE_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def real_photo() -> Path:
    return datasets_dir() / "lfw-deepfunneled/images/Aaron_Eckhart/Aaron_Eckhart_0001.jpg"


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def upright_picture() -> Image.Image:
    """Blue picture, wider than tall, with a red block in the top-left corner."""
    im = Image.new("RGB", UPRIGHT_SIZE, BLUE)
    im.paste(RED, (0, 0, 20, 14))
    return im


def oriented_jpeg(orientation: int, fmt: str = "JPEG") -> bytes:
    """The upright picture stored the way a camera would for ``orientation`` (tag set)."""
    im = upright_picture()
    if (method := _STORE_AS.get(orientation)) is not None:
        im = im.transpose(method)
    exif = Image.Exif()
    exif[0x0112] = orientation
    params = {"quality": 95} if fmt == "JPEG" else {}
    return encode(im, fmt, exif=exif.tobytes(), **params)


def jpeg_with_exif_segment(payload: bytes) -> bytes:
    """A valid JPEG with a hand-made APP1 'Exif' segment (e.g. garbage payload)."""
    jpeg = encode(upright_picture(), "JPEG")
    body = b"Exif\x00\x00" + payload
    app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return jpeg[:2] + app1 + jpeg[2:]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(
        b"IEND", b""
    )


def big_jpeg(width: int = 8000, height: int = 6000) -> bytes:
    """A large but legal photo: a horizontal gradient (compresses to a few hundred KB)."""
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    rgb = np.broadcast_to(ramp[None, :, None], (height, width, 3))
    return encode(Image.fromarray(np.ascontiguousarray(rgb)), "JPEG", quality=70)


def gradient(width: int = 64, height: int = 48) -> Image.Image:
    """An RGB picture with some structure (so lossy codecs keep the data big enough)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], axis=2)
    return Image.fromarray(rgb.astype(np.uint8))


def not_images() -> dict[str, bytes]:
    """Files that are not images, keyed by what they are."""
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("a.txt", "hello")
    return {
        "pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
        "text": "Nama: Budi, NIK 3171234567890001\n".encode() * 10,
        "zip": zbuf.getvalue(),
        "mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64,
        "ico": encode(gradient(32, 32), "ICO"),
        "html": b"<!doctype html><html><body>hi</body></html>",
        "text_starting_like_bmp_or_pgm": b"BMW P5 manual\n" * 20,
    }


def garbage_after_magic() -> dict[str, bytes]:
    """Valid signatures followed by noise."""
    noise = bytes(range(256)) * 4
    return {
        "jpeg": b"\xff\xd8\xff\xe0" + noise,
        "png": b"\x89PNG\r\n\x1a\n" + noise,
        "gif": b"GIF89a" + noise,
        "webp": b"RIFF\x00\x04\x00\x00WEBPVP8 " + noise,
        "bmp": b"BM" + bytes(12) + b"\x28\x00\x00\x00" + noise,
        "pgm": b"P5\n" + noise,
        "tiff": b"II*\x00" + noise,
        "heic": b"\x00\x00\x00\x18ftypheic" + noise,
    }
