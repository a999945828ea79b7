"""load_image: accepted input becomes an upright uint8 RGB array; anything else a facegate error."""

from __future__ import annotations

import io
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from facegate.errors import FacegateError
from facegate import imaging
from facegate.imaging import ALLOWED_FORMATS, load_image

sys.path.insert(0, str(Path(__file__).parent))
import imaging_samples as samples  # noqa: E402

PHOTO = samples.real_photo()
needs_photo = pytest.mark.skipif(not PHOTO.exists(), reason="shared datasets not available")
GREY = (128, 128, 128)


def assert_rgb(arr: np.ndarray, shape: tuple[int, int] | None = None) -> None:
    assert isinstance(arr, np.ndarray)
    assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3
    assert arr.flags.c_contiguous and arr.flags.writeable
    if shape is not None:
        assert arr.shape[:2] == shape


def error_code(source: object, **kwargs: object) -> str:
    with pytest.raises(FacegateError) as info:
        load_image(source, **kwargs)  # type: ignore[arg-type]
    return info.value.code


def red_block_top_left(arr: np.ndarray) -> bool:
    corner = arr[2:10, 2:16].reshape(-1, 3).mean(axis=0)
    opposite = arr[-10:-2, -16:-2].reshape(-1, 3).mean(axis=0)
    return corner[0] > 200 and corner[2] < 60 and opposite[2] > 200 and opposite[0] < 60


# --- formats ------------------------------------------------------------------------------


def test_allowed_formats() -> None:
    assert {"JPEG", "PNG", "WEBP", "BMP", "HEIF", "TIFF", "PPM", "GIF"} <= ALLOWED_FORMATS


@needs_photo
def test_real_photo_from_path_str_and_bytes() -> None:
    from_path = load_image(PHOTO)
    assert_rgb(from_path, (250, 250))
    assert from_path.std() > 20  # a real picture, not a flat fill
    assert np.array_equal(load_image(str(PHOTO)), from_path)
    data = PHOTO.read_bytes()
    for source in (data, bytearray(data), memoryview(data)):
        assert np.array_equal(load_image(source), from_path)


@needs_photo
def test_non_ascii_file_name_and_misleading_extension(tmp_path: Path) -> None:
    named = tmp_path / "fötö_муж_张.jpg"
    named.write_bytes(PHOTO.read_bytes())
    assert_rgb(load_image(named), (250, 250))
    png_named_jpg = tmp_path / "photo.jpg"
    png_named_jpg.write_bytes(samples.encode(samples.gradient(), "PNG"))
    assert_rgb(load_image(png_named_jpg), (48, 64))


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("JPEG", {"quality": 95}),
        ("JPEG", {"quality": 95, "progressive": True}),
        ("PNG", {}),
        ("WEBP", {"quality": 90}),
        ("WEBP", {"lossless": True}),
        ("BMP", {}),
        ("TIFF", {}),
        ("TIFF", {"compression": "tiff_lzw"}),
        ("PPM", {}),
        ("HEIF", {"quality": 90}),
        pytest.param("AVIF", {"quality": 90}, marks=pytest.mark.skipif(
            "AVIF" not in ALLOWED_FORMATS, reason="no AVIF in this Pillow")),
    ],
)
def test_formats_decode_to_the_same_picture(fmt: str, params: dict) -> None:
    original = np.asarray(samples.gradient())
    out = load_image(samples.encode(samples.gradient(), fmt, **params))
    assert_rgb(out, (48, 64))
    lossy = fmt in ("JPEG", "HEIF", "AVIF") or (fmt == "WEBP" and "lossless" not in params)
    assert np.abs(out.astype(int) - original).mean() < (12 if lossy else 0.01)


def test_mpo_multi_picture_jpeg() -> None:
    first, second = samples.gradient(), Image.new("RGB", (64, 48), (0, 255, 0))
    data = samples.encode(first, "MPO", save_all=True, append_images=[second], quality=95)
    assert Image.open(io.BytesIO(data)).format == "MPO"
    out = load_image(data)
    assert np.abs(out.astype(int) - np.asarray(first)).mean() < 12


def test_pgm_8_and_16_bit() -> None:
    ramp8 = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    out = load_image(samples.encode(Image.fromarray(ramp8), "PPM"))  # writes P5 (PGM)
    assert np.array_equal(out[..., 0], ramp8) and np.array_equal(out[..., 2], ramp8)
    ramp16 = (ramp8.astype(np.uint16) * 257)
    out16 = load_image(samples.encode(Image.fromarray(ramp16), "PPM"))
    assert np.array_equal(out16[..., 1], ramp8)


def test_gif_first_frame_and_multi_frame_tiff() -> None:
    frames = [Image.new("RGB", (32, 24), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    for fmt in ("GIF", "TIFF"):
        data = samples.encode(frames[0], fmt, save_all=True, append_images=frames[1:])
        assert Image.open(io.BytesIO(data)).n_frames == 3
        out = load_image(data)
        assert_rgb(out, (24, 32))
        assert tuple(out[5, 5]) == (255, 0, 0), fmt


# --- orientation --------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_makes_the_picture_upright(orientation: int) -> None:
    out = load_image(samples.oriented_jpeg(orientation))
    assert_rgb(out, (40, 60))
    assert red_block_top_left(out)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "HEIF", "AVIF"])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_in_other_formats(fmt: str, orientation: int) -> None:
    if fmt not in ALLOWED_FORMATS:
        pytest.skip(f"no {fmt} in this Pillow")
    out = load_image(samples.oriented_jpeg(orientation, fmt))
    assert out.shape == (40, 60, 3) and red_block_top_left(out)


@pytest.mark.parametrize("orientation", [0, 9, 65535])
def test_invalid_orientation_is_ignored(orientation: int) -> None:
    out = load_image(samples.oriented_jpeg(orientation))
    assert_rgb(out, (40, 60))
    assert red_block_top_left(out)  # stored unrotated, shown as stored


@pytest.mark.parametrize("payload", [b"", b"\x00" * 3, b"II*\x00\xff\xff\xff\x7f" + b"\x01" * 40,
                                     b"MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03"])
def test_corrupt_exif_is_ignored(payload: bytes) -> None:
    out = load_image(samples.jpeg_with_exif_segment(payload))
    assert red_block_top_left(out)


# --- modes --------------------------------------------------------------------------------


def test_alpha_is_composited_on_mid_grey() -> None:
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0] = 255  # garbage red under fully transparent pixels
    rgba[0, 0] = (0, 0, 255, 255)  # one opaque blue pixel
    rgba[0, 1] = (255, 255, 255, 128)  # half-transparent white
    for fmt in ("PNG", "WEBP", "TIFF"):
        out = load_image(samples.encode(Image.fromarray(rgba, "RGBA"), fmt, lossless=True))
        assert tuple(out[3, 5]) == GREY, fmt
        assert tuple(out[0, 0]) == (0, 0, 255), fmt
        assert np.allclose(out[0, 1], 192, atol=1), fmt


def test_la_and_palette_transparency() -> None:
    la = Image.new("LA", (4, 4), (255, 0))
    la.putpixel((0, 0), (10, 255))
    out = load_image(samples.encode(la, "PNG"))
    assert tuple(out[1, 1]) == GREY and tuple(out[0, 0]) == (10, 10, 10)

    pal = Image.new("P", (4, 4), 1)
    pal.putpalette([0, 255, 0, 255, 0, 255] + [0] * 762)
    pal.putpixel((0, 0), 0)
    for fmt in ("PNG", "GIF"):
        out = load_image(samples.encode(pal, fmt, transparency=1))  # index 1 (magenta) is tRNS
        assert tuple(out[2, 2]) == GREY, fmt
        assert tuple(out[0, 0]) == (0, 255, 0), fmt
    assert tuple(load_image(samples.encode(pal, "PNG"))[2, 2]) == (255, 0, 255)  # opaque P


def test_grey_and_one_bit() -> None:
    grey = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (2, 1)), "L")
    out = load_image(samples.encode(grey, "PNG"))
    assert np.array_equal(out[0, :, 0], np.arange(256)) and np.array_equal(out[..., 0], out[..., 2])
    bits = Image.new("1", (8, 8), 0)
    bits.putpixel((0, 0), 1)
    out = load_image(samples.encode(bits, "PNG"))
    assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[1, 1]) == (0, 0, 0)


def test_16_bit_png_keeps_the_full_ramp() -> None:
    ramp = np.tile(np.arange(0, 65536, 256, dtype=np.uint16), (3, 1))  # 0, 256, ..., 65280
    data = samples.encode(Image.fromarray(ramp), "PNG")
    im = Image.open(io.BytesIO(data))
    assert im.mode.startswith("I")
    assert np.asarray(im.convert("L")).max() == 255 and np.asarray(im.convert("L"))[0, 1] == 255
    out = load_image(data)  # Pillow's convert("L") clips at 255; we must not
    assert np.array_equal(out[0, :, 0], np.arange(256))


@pytest.mark.parametrize("mode", ["I;16B", "I;16", "I"])
def test_16_and_32_bit_integer_tiff(mode: str) -> None:
    ramp = np.tile(np.arange(0, 65536, 256, dtype=np.uint32), (3, 1))
    im = Image.fromarray(ramp.astype(np.int32)).convert(mode) if mode == "I" else Image.frombytes(
        mode, (256, 3), ramp.astype(">u2" if mode == "I;16B" else "<u2").tobytes()
    )
    out = load_image(samples.encode(im, "TIFF"))
    assert np.array_equal(out[1, :, 1], np.arange(256))


def test_float_tiff_is_taken_as_zero_to_one() -> None:
    values = np.array([[0.0, 0.5, 1.0, 2.0, -1.0]], np.float32)
    out = load_image(samples.encode(Image.fromarray(values, "F"), "TIFF"))
    assert list(out[0, :, 0]) == [0, 128, 255, 255, 0]


def test_cmyk_jpeg_and_ycbcr_and_lab() -> None:
    red = Image.new("RGB", (16, 16), (220, 30, 30))
    for im, fmt in ((red.convert("CMYK"), "JPEG"), (red.convert("CMYK"), "TIFF"),
                    (red.convert("YCbCr"), "JPEG"), (red.convert("YCbCr"), "TIFF")):
        out = load_image(samples.encode(im, fmt))
        assert np.allclose(out[8, 8], (220, 30, 30), atol=12), (im.mode, fmt, out[8, 8])
    lab = Image.new("LAB", (4, 4), (255, 128, 128))  # L=100 a=0 b=0 -> white
    out = load_image(samples.encode(lab, "TIFF"))
    assert np.all(out >= 250)


def test_heif_with_alpha_and_webp_with_alpha() -> None:
    im = Image.new("RGBA", (32, 32), (255, 0, 0, 0))
    im.paste((0, 0, 255, 255), (0, 0, 16, 16))
    for fmt in ("HEIF", "WEBP"):
        out = load_image(samples.encode(im, fmt, quality=95))
        assert np.allclose(out[24, 24], GREY, atol=8), fmt
        assert out[4, 4, 2] > 200, fmt


# --- arrays -------------------------------------------------------------------------------


def test_array_dtypes_and_shapes() -> None:
    base = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    expected = np.repeat(base[..., None], 3, axis=2)
    cases = [
        base,
        base[..., None],
        expected,
        np.dstack([expected, np.full((3, 4), 255, np.uint8)]),
        base.astype(np.uint16) << 8,
        base.astype(np.float32) / 255,
        base.astype(np.float64) / 255,
        base.astype(np.int64),
        base.astype(np.int16),
        base.astype(">u2") << 8,  # big-endian 16-bit
    ]
    for arr in cases:
        out = load_image(arr)
        assert_rgb(out, (3, 4))
        assert np.array_equal(out, expected), arr.dtype
    assert np.array_equal(load_image(base > 100)[..., 0], (base > 100) * 255)
    assert np.array_equal(load_image(np.array([[-5, 300]]))[0, :, 0], [0, 255])
    assert np.array_equal(load_image(np.array([[-0.5, 1.5]]))[0, :, 0], [0, 255])


def test_array_alpha_composite() -> None:
    rgba = np.array([[[255, 0, 0, 0], [0, 0, 255, 255], [255, 255, 255, 128]]], np.uint8)
    out = load_image(rgba)
    assert tuple(out[0, 0]) == GREY and tuple(out[0, 1]) == (0, 0, 255)
    assert np.allclose(out[0, 2], 192, atol=1)


def test_non_contiguous_views_and_no_mutation() -> None:
    arr = np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    before = arr.copy()
    for view in (arr[:, ::-1], arr[::2, ::2], arr.transpose(1, 0, 2), arr[..., ::-1]):
        out = load_image(view)
        assert_rgb(out, view.shape[:2])
        assert np.array_equal(out, view)
        assert not np.shares_memory(out, arr)
        out[:] = 0
    assert np.array_equal(arr, before)


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros((2, 2, 2, 3), np.uint8),
        np.zeros((0, 5, 3), np.uint8),
        np.zeros((5,), np.uint8),
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((4, 4), np.complex64),
        np.zeros((4, 4), object),
        np.array([["a", "b"]]),
        np.array([[np.nan, 0.5]]),
        np.array([[np.inf, 0.5]]),
    ],
)
def test_unusable_arrays(arr: np.ndarray) -> None:
    assert error_code(arr) == "unsupported_format"


def test_array_size_limits_and_downscale() -> None:
    assert error_code(np.zeros((100, 100), np.uint8), max_pixels=9_999) == "image_too_large"
    out = load_image(np.zeros((3000, 1000, 3), np.uint8))
    assert out.shape == (2048, 683, 3)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(samples.not_images()))
def test_not_an_image_is_unsupported_even_when_named_jpg(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.jpg"
    path.write_bytes(samples.not_images()[kind])
    assert error_code(path) == "unsupported_format"
    assert error_code(path.read_bytes()) == "unsupported_format"


def test_empty_input(tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert error_code(tmp_path / "empty.jpg") == "unsupported_format"
    assert error_code(b"") == "unsupported_format"


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(FacegateError) as info:
        load_image(tmp_path / "nope.jpg")
    assert info.value.code == "not_found" and "nope.jpg" in info.value.message
    assert error_code(tmp_path) == "not_found"


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.png"
    path.write_bytes(samples.encode(samples.gradient(), "PNG"))
    if os.name == "posix" and os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads anything: simulate the denial

        def deny(*args: object, **kwargs: object) -> None:
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr(imaging, "open", deny, raising=False)
    with pytest.raises(FacegateError) as info:
        load_image(path)
    assert info.value.code == "invalid_input" and "secret.png" in info.value.message


def test_wrong_python_type() -> None:
    assert error_code(12345) == "invalid_input"
    assert error_code([[0, 0, 0]]) == "invalid_input"


@needs_photo
@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.99])
def test_truncated_jpeg_is_corrupt(fraction: float) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    data = PHOTO.read_bytes()
    assert error_code(data[: int(len(data) * fraction)]) == "corrupt_image"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "JPEG"])
def test_truncated_files_are_corrupt(fmt: str) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = samples.encode(Image.fromarray(noise), fmt)
    for cut in (len(data) // 2, len(data) * 3 // 4, 40):
        assert error_code(data[:cut]) == "corrupt_image", (fmt, cut)


@pytest.mark.parametrize("kind", sorted(samples.garbage_after_magic()))
def test_garbage_after_magic_is_corrupt(kind: str) -> None:
    assert error_code(samples.garbage_after_magic()[kind]) == "corrupt_image"


# --- size limits --------------------------------------------------------------------------


def test_file_over_max_bytes_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(samples.encode(samples.gradient(), "PNG"))
    assert error_code(path, max_bytes=100) == "image_too_large"
    assert error_code(path.read_bytes(), max_bytes=100) == "image_too_large"


def test_decompression_bomb_header_is_refused_fast() -> None:
    bomb = samples.png_bomb(100_000, 100_000)
    assert len(bomb) < 200
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    assert error_code(bomb) == "image_too_large"
    # Also when the caller's limit is above Pillow's own bomb threshold (Pillow raises first).
    assert error_code(bomb, max_pixels=10**11) == "image_too_large"
    assert time.perf_counter() - start < 1.0
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 100_000  # 10^10 RGB pixels would be 30 GB


def test_pillow_bomb_warning_and_error(monkeypatch: pytest.MonkeyPatch) -> None:
    data = samples.encode(samples.gradient(64, 48), "PNG")  # 3072 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)  # Pillow warns (> 2000), no error
    assert_rgb(load_image(data), (48, 64))  # our max_pixels governs, not Pillow's warning
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow raises (> 2 * 1000)
    assert error_code(data) == "image_too_large"


def test_pixels_over_limit_from_header() -> None:
    data = samples.encode(samples.gradient(64, 48), "PNG")
    assert error_code(data, max_pixels=64 * 48 - 1) == "image_too_large"
    assert_rgb(load_image(data, max_pixels=64 * 48))


def test_48_megapixel_jpeg_is_downscaled() -> None:
    data = samples.big_jpeg(8000, 6000)
    start = time.perf_counter()
    out = load_image(data)
    assert_rgb(out, (1536, 2048))
    assert time.perf_counter() - start < 5.0
    assert out[:, 0].mean() < 10 and out[:, -1].mean() > 245  # the gradient survived
    assert load_image(data, max_side=1000).shape == (750, 1000, 3)


def test_max_side_none_keeps_full_size() -> None:
    data = samples.encode(samples.gradient(3000, 200), "PNG")
    assert load_image(data, max_side=None).shape == (200, 3000, 3)
    assert load_image(data).shape == (137, 2048, 3)
    assert load_image(data, max_side=3000).shape == (200, 3000, 3)


# --- fuzzing ------------------------------------------------------------------------------


def _check_outcome(data: bytes) -> None:
    try:
        out = load_image(data, max_pixels=4_000_000)
    except FacegateError as exc:
        assert exc.code in {"unsupported_format", "corrupt_image", "image_too_large"}
    else:
        assert_rgb(out)


def _seeds() -> list[bytes]:
    seeds = [samples.encode(samples.gradient(), "PNG"), samples.encode(samples.gradient(), "JPEG")]
    if PHOTO.exists():
        seeds.append(PHOTO.read_bytes())
    return seeds


SEEDS = _seeds()
fuzz = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fuzz
@given(st.binary(max_size=2048))
def test_random_bytes_never_escape(data: bytes) -> None:
    _check_outcome(data)


@fuzz
@given(
    seed=st.sampled_from(SEEDS),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=8),
)
def test_mutated_real_files_never_escape(seed: bytes, cut: float, flips: list) -> None:
    data = bytearray(seed[: max(1, int(len(seed) * cut))] if cut < 0.95 else seed)
    for where, value in flips:
        data[min(int(where * len(data)), len(data) - 1)] = value
    _check_outcome(bytes(data))


def test_pillow_heif_registered() -> None:
    assert pillow_heif.__version__
    assert "HEIF" in Image.OPEN
