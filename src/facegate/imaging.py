"""Turn any photo we accept into an upright ``uint8`` RGB array, or a facegate error.

Pipeline of :func:`load_image`:

1. **size check** - refuse files/buffers over ``max_bytes`` (``os.stat`` before reading a path).
2. **sniff** - Pillow identifies the real bytes, restricted to :data:`ALLOWED_FORMATS`;
   the file name/extension is never consulted.
3. **header limits** - ``Image.open`` is lazy: ``width * height`` is checked against
   ``max_pixels`` before any pixel is decoded (Pillow's own decompression-bomb error also
   maps to ``image_too_large``).  Big JPEGs are decoded at 1/2, 1/4 or 1/8 scale via ``draft``.
4. **decode** - a full, forced decode; any decoder failure (including truncation; we never
   enable ``LOAD_TRUNCATED_IMAGES``) becomes ``corrupt_image``.
5. **orientation** - EXIF orientation 2-8 is applied; bad/missing EXIF is ignored.
6. **mode** - everything becomes RGB: alpha is composited on mid-grey (128, 128, 128),
   16-bit is scaled (``>> 8``), float is taken as [0, 1], CMYK/YCbCr/LAB are colour-converted.
7. **downscale** - the longest side is reduced to ``max_side`` (LANCZOS, after a cheap
   integer ``reduce``); ``max_side=None`` keeps the full size.

numpy input (RGB channel order) skips steps 1-5.  Accepted dtypes: bool, uint8, uint16
(``>> 8``), other integers (clipped to 0..255), floats (clipped to [0, 1]; NaN/inf is
refused with ``unsupported_format``).  ``max_pixels`` applies to arrays, ``max_bytes`` does not.
"""

from __future__ import annotations

import io
import os
import re
import warnings

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageCms, ImageOps

from facegate.errors import CorruptImage, FacegateError, ImageTooLarge, InvalidInput, NotFound
from facegate.errors import UnsupportedFormat

__all__ = ["ALLOWED_FORMATS", "load_image", "media_type_matches"]

pillow_heif.register_heif_opener()
Image.init()

#: Pillow format names we decode. MPO is the multi-picture JPEG variant many cameras write;
#: PPM covers PGM/PBM; AVIF is included when this Pillow build has it.
ALLOWED_FORMATS: frozenset[str] = frozenset(
    {"JPEG", "MPO", "PNG", "WEBP", "BMP", "HEIF", "TIFF", "PPM", "GIF"}
    | ({"AVIF"} & set(Image.OPEN))
)

_OPENERS = sorted(ALLOWED_FORMATS & set(Image.OPEN))  # MPO has no opener: JPEG's yields it
_BACKGROUND = (128, 128, 128)
#: Signatures of the allowed formats: such data that Pillow cannot open is corrupt, not foreign.
_SIGNATURE = re.compile(
    rb"\xff\xd8\xff|\x89PNG\r\n\x1a\n|GIF8[79]a|II\*\x00|MM\x00\*|P[1-6]\s|RIFF....WEBP"
    rb"|BM.{12}[\x0c\x28\x34\x38\x40\x6c\x7c]\x00\x00\x00"  # BMP + DIB header size
    rb"|....ftyp(?:hei[cxms]|hev[cx]|mif1|msf1|avif)",
    re.DOTALL,
)


#: Media types a sender may declare for each format (beyond Pillow's own).
_MEDIA_ALIASES = {
    "JPEG": {"image/jpeg", "image/jpg", "image/pjpeg"},
    "MPO": {"image/jpeg", "image/jpg", "image/mpo"},
    "HEIF": {"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"},
    "AVIF": {"image/avif"},
    "PPM": {"image/x-portable-anymap", "image/x-portable-pixmap", "image/x-portable-graymap", "image/x-portable-bitmap"},
    "BMP": {"image/bmp", "image/x-ms-bmp", "image/x-bmp"},
    "TIFF": {"image/tiff"},
}


def media_type_matches(data: bytes, declared: str) -> str | None:
    """The format found in ``data`` if it contradicts the ``declared`` image/* media type, else None.

    Only the header is read. Data that is no image at all is left for
    :func:`load_image` to refuse with its own error.
    """
    declared = declared.split(";")[0].strip().lower()
    if not declared.startswith("image/"):
        return None
    try:
        with Image.open(io.BytesIO(data), formats=_OPENERS) as im:
            found = im.format or ""
    except Exception:
        return None
    accepted = _MEDIA_ALIASES.get(found, set()) | {Image.MIME.get(found, "").lower()}
    return None if declared in accepted else found


def load_image(
    source: bytes | bytearray | memoryview | str | os.PathLike[str] | np.ndarray,
    *,
    max_pixels: int = 120_000_000,
    max_bytes: int = 40 * 1024 * 1024,
    max_side: int | None = 2048,
) -> np.ndarray:
    """Decode ``source`` into an upright, C-contiguous ``uint8`` RGB array of shape (H, W, 3).

    Raises :class:`UnsupportedFormat`, :class:`CorruptImage`, :class:`ImageTooLarge`,
    :class:`NotFound` (missing path) or :class:`InvalidInput` (unreadable path, wrong type).
    ``MemoryError`` is not disguised as a facegate error.
    """
    if isinstance(source, np.ndarray):
        rgb = _array_to_rgb(source, max_pixels)
        return _downscale(rgb, max_side)
    data = _read(source, max_bytes)
    if not data:
        raise UnsupportedFormat("The image is empty.")
    try:
        with warnings.catch_warnings():
            # Our own max_pixels check governs (Pillow's fixed warning threshold is lower), and
            # Pillow's chatter about bad data ("Corrupt EXIF data", "Truncated File Read") is
            # answered by the error we raise or by ignoring the EXIF.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            return _decode(data, max_pixels, max_side)
    except (FacegateError, MemoryError):
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(
            f"The image has too many pixels (the limit is {max_pixels:,}); send a smaller photo."
        ) from exc
    except Exception as exc:  # anything Pillow/libjpeg/zlib raises on bad data; its text is not for people
        cut_off = "truncated" in str(exc).lower() or isinstance(exc, (EOFError, SyntaxError))
        raise CorruptImage(
            "The image is cut off (the file is incomplete); send the whole file."
            if cut_off
            else "The image is damaged and could not be decoded."
        ) from exc


def _read(source: object, max_bytes: int) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = source.tobytes() if isinstance(source, memoryview) else bytes(source)
        if len(data) > max_bytes:
            raise ImageTooLarge(f"The image is {len(data)} bytes; the limit is {max_bytes}.")
        return data
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidInput(f"Cannot load an image from a {type(source).__name__}.")
    path = os.fspath(source)
    try:
        st = os.stat(path)
        if not os.path.isfile(path):
            raise NotFound(f"{path!r} is not a file.", path=str(path))
        if st.st_size > max_bytes:
            raise ImageTooLarge(f"{path!r} is {st.st_size} bytes; the limit is {max_bytes}.")
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # the file may have grown since stat
    except FileNotFoundError as exc:
        raise NotFound(f"Image file {path!r} does not exist.", path=str(path)) from exc
    except PermissionError as exc:
        raise InvalidInput(f"Image file {path!r} cannot be read: permission denied.") from exc
    except OSError as exc:
        raise InvalidInput(f"Image file {path!r} cannot be read: {exc}") from exc
    if len(data) > max_bytes:
        raise ImageTooLarge(f"{path!r} is larger than {max_bytes} bytes.")
    return data


def _decode(data: bytes, max_pixels: int, max_side: int | None) -> np.ndarray:
    try:
        im = Image.open(io.BytesIO(data), formats=_OPENERS)
    except (Image.DecompressionBombError, MemoryError):
        raise
    except Exception as exc:  # not identified, or a plugin choked on the header
        if _SIGNATURE.match(data):  # an allowed format's signature, but Pillow could not parse it
            raise CorruptImage("The image is damaged: its header cannot be read.") from exc
        raise UnsupportedFormat("The data is not a supported image format.") from exc
    with im:
        if im.format not in ALLOWED_FORMATS:
            raise UnsupportedFormat(f"Image format {im.format} is not supported.")
        width, height = im.size
        if width <= 0 or height <= 0:
            raise CorruptImage("The image has no pixels.")
        if width * height > max_pixels:
            raise ImageTooLarge(f"The image is {width}x{height}; the limit is {max_pixels} pixels.")
        if im.format in ("JPEG", "MPO") and max_side and max(width, height) > max_side:
            scale = max_side / max(width, height)
            im.draft(None, (max(1, round(width * scale)), max(1, round(height * scale))))
        im.load()  # full decode; raises on truncation
        rgb = _image_to_rgb(_upright(im))
    return _downscale(rgb, max_side)


def _upright(im: Image.Image) -> Image.Image:
    try:
        if im.getexif().get(ExifTags.Base.Orientation, 1) in range(2, 9):
            return ImageOps.exif_transpose(im)
    except MemoryError:
        raise
    except Exception:  # corrupt EXIF: keep the pixels as stored
        pass
    return im  # no, invalid (0, 9, 65535...) or unreadable orientation


def _image_to_rgb(im: Image.Image) -> np.ndarray:
    if im.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        arr = np.asarray(im)
        if im.mode == "I":  # 32-bit container of 16-bit samples (e.g. 16-bit PGM)
            arr = np.clip(arr, 0, 65535).astype(np.uint16)
        return _array_to_rgb(arr, max_pixels=None)
    if im.mode == "LAB":
        srgb, lab = ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB")
        im = ImageCms.applyTransform(im, ImageCms.buildTransform(lab, srgb, "LAB", "RGB"))
    elif im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or im.has_transparency_data:
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", im.size, (*_BACKGROUND, 255)), rgba)
    return np.array(im.convert("RGB"))  # a writable, C-contiguous copy


def _array_to_rgb(arr: np.ndarray, max_pixels: int | None) -> np.ndarray:
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))):
        raise UnsupportedFormat(f"An image array must be HxW or HxWx(1|3|4), not {arr.shape}.")
    if arr.size == 0 or arr.dtype.kind not in "biuf":
        raise UnsupportedFormat(f"Cannot use an image array of {arr.shape}, dtype {arr.dtype}.")
    height, width = arr.shape[:2]
    if max_pixels is not None and width * height > max_pixels:
        raise ImageTooLarge(f"The array is {width}x{height}; the limit is {max_pixels} pixels.")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype.kind == "u" and arr.dtype.itemsize == 2:
        arr = (arr >> 8).astype(np.uint8)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise UnsupportedFormat("The image array contains NaN or infinite values.")
        arr = np.rint(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[2] == 4:
        alpha = arr[:, :, 3:].astype(np.uint16)
        blend = arr[:, :, :3] * alpha + np.array(_BACKGROUND, np.uint16) * (255 - alpha)
        arr = ((blend + 127) // 255).astype(np.uint8)
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    # A fresh C-contiguous array: never hand back (a view of) the caller's memory.
    return np.array(arr, dtype=np.uint8, order="C", copy=True)


def _downscale(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    height, width = rgb.shape[:2]
    if max_side is None or max(width, height) <= max_side:
        return rgb
    scale = max_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.array(small)
