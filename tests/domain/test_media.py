"""The rules of an upload, without a database: what is accepted, and what is stored of it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from liveticker.domain import media
from liveticker.exceptions import PayloadTooLarge, ValidationFailed
from liveticker.settings import Settings
from tests.images import (
    BLUE,
    RED,
    assert_no_metadata,
    camera_jpeg,
    encode,
    png_header_only,
    reopen,
    tagged_png,
    tagged_webp,
    two_colours,
)

LIMITS = {"max_bytes": 15 * 1024 * 1024, "max_pixels": 40_000_000}


def near(colour: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=False))


def test_a_photo_loses_its_metadata_and_keeps_its_size() -> None:
    prepared = media.prepare(camera_jpeg((2400, 1200)), **LIMITS)
    assert (prepared.source_format, prepared.format, prepared.extension) == ("JPEG", "JPEG", "jpg")
    assert [(r.width, r.height) for r in prepared.renditions] == [
        (480, 240),
        (960, 480),
        (1600, 800),
    ]
    for rendition in prepared.renditions:
        assert_no_metadata(rendition.data)
        image = reopen(rendition.data)
        assert image.format == "JPEG"
        assert image.size == (rendition.width, rendition.height)
        assert near(image.getpixel((2, rendition.height // 2)), RED)
        assert near(image.getpixel((rendition.width - 3, rendition.height // 2)), BLUE)


@pytest.mark.parametrize("make", [tagged_png, tagged_webp], ids=["png", "webp"])
def test_png_and_webp_lose_their_metadata_too(make: Callable[[], bytes]) -> None:
    source = reopen(make())
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test's file carries all of it
    assert "icc_profile" in source.info
    prepared = media.prepare(make(), **LIMITS)
    assert [(r.width, r.height) for r in prepared.renditions] == [(480, 240), (800, 400)]
    for rendition in prepared.renditions:
        assert_no_metadata(rendition.data)
        assert near(reopen(rendition.data).convert("RGB").getpixel((2, 100)), RED)


def test_the_exif_orientation_is_applied() -> None:
    # 6: the camera was turned clockwise; shown upright, the left half is on top.
    prepared = media.prepare(camera_jpeg((1200, 600), orientation=6), **LIMITS)
    assert [(r.width, r.height) for r in prepared.renditions] == [(480, 960), (600, 1200)]
    image = reopen(prepared.renditions[-1].data)
    assert near(image.getpixel((300, 5)), RED)
    assert near(image.getpixel((300, 1194)), BLUE)


@pytest.mark.parametrize(
    ("width", "widths"),
    [(3000, [480, 960, 1600]), (1600, [480, 960, 1600]), (1200, [480, 960, 1200]), (300, [300])],
)
def test_widths_are_never_upscaled(width: int, widths: list[int]) -> None:
    prepared = media.prepare(encode(two_colours((width, width // 2)), "PNG"), **LIMITS)
    assert [r.width for r in prepared.renditions] == widths
    assert [r.height for r in prepared.renditions] == [round(w / 2) for w in widths]


def test_a_very_tall_image_is_stored_narrower_so_its_height_fits() -> None:
    prepared = media.prepare(encode(Image.new("L", (200, 33_000), 128), "PNG"), **LIMITS)
    largest = prepared.renditions[-1]
    assert largest.height <= media.MAX_SIDE
    assert (largest.width, largest.height) == (99, 16_335)


def test_png_keeps_its_transparency() -> None:
    image = Image.new("RGBA", (640, 320), (0, 128, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, 320, 320))
    prepared = media.prepare(encode(image, "PNG"), **LIMITS)
    assert prepared.format == "PNG"
    assert [r.width for r in prepared.renditions] == [480, 640]
    stored = reopen(prepared.renditions[-1].data)
    assert stored.mode == "RGBA"
    assert stored.getpixel((10, 10))[3] == 255
    assert stored.getpixel((630, 10))[3] == 0
    assert_no_metadata(prepared.renditions[-1].data)


def test_webp_stays_webp() -> None:
    prepared = media.prepare(encode(two_colours((1000, 500)), "WEBP", quality=90), **LIMITS)
    assert (prepared.format, prepared.extension) == ("WEBP", "webp")
    assert [r.width for r in prepared.renditions] == [480, 960, 1000]
    for rendition in prepared.renditions:
        assert reopen(rendition.data).format == "WEBP"
        assert_no_metadata(rendition.data)


def test_a_gif_keeps_its_first_frame_as_a_png() -> None:
    first = Image.new("P", (500, 250), 1)
    first.putpalette([0, 0, 0, *RED, *BLUE] + [0] * (256 * 3 - 9))
    second = first.copy()
    second.paste(2, (0, 0, 500, 250))
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    prepared = media.prepare(data, **LIMITS)
    assert (prepared.source_format, prepared.format) == ("GIF", "PNG")
    stored = reopen(prepared.renditions[-1].data)
    assert stored.format == "PNG"
    assert getattr(stored, "n_frames", 1) == 1
    assert near(stored.getpixel((250, 125)), RED, tolerance=0)


def test_a_transparent_gif_stays_transparent() -> None:
    image = Image.new("P", (100, 100), 0)
    image.putpalette([*RED, *BLUE] + [0] * (256 * 3 - 6))
    image.paste(1, (50, 0, 100, 100))
    stored = reopen(
        media.prepare(encode(image, "GIF", transparency=1), **LIMITS).renditions[-1].data
    )
    assert stored.mode == "RGBA"
    assert stored.getpixel((10, 10))[3] == 255
    assert stored.getpixel((90, 10))[3] == 0


def test_sixteen_bit_greys_are_scaled_not_clipped() -> None:
    stored = reopen(
        media.prepare(encode(Image.new("I;16", (64, 64), 40_000), "PNG"), **LIMITS)
        .renditions[-1]
        .data
    )
    assert stored.mode == "L"
    assert abs(stored.getpixel((5, 5)) - 156) <= 1


def test_a_cmyk_jpeg_becomes_rgb() -> None:
    image = Image.new("CMYK", (300, 200), (0, 255, 255, 0))  # red in ink
    stored = reopen(media.prepare(encode(image, "JPEG"), **LIMITS).renditions[-1].data)
    assert stored.mode == "RGB"
    assert near(stored.getpixel((150, 100)), (255, 0, 0))


def test_an_unreadable_colour_profile_is_dropped_not_fatal() -> None:
    data = encode(two_colours((300, 200)), "JPEG", icc_profile=b"not a profile" * 20)
    stored = media.prepare(data, **LIMITS).renditions[-1].data
    assert_no_metadata(stored)
    assert near(reopen(stored).getpixel((5, 100)), RED)


@pytest.mark.parametrize(
    "data",
    [
        b"Quarterly figures, please do not share.\n" * 20,
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"GIF8",
        b"",
        encode(Image.new("RGB", (20, 20)), "BMP"),
        encode(Image.new("RGB", (20, 20)), "TIFF"),
    ],
    ids=["text", "svg", "short", "empty", "bmp", "tiff"],
)
def test_what_is_not_a_jpeg_png_webp_or_gif_is_refused(data: bytes) -> None:
    with pytest.raises(ValidationFailed, match="not a JPEG, PNG, WebP or GIF image"):
        media.prepare(data, **LIMITS)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_a_truncated_or_damaged_file_is_refused(fmt: str) -> None:
    whole = encode(Image.frombytes("RGB", (400, 300), os.urandom(400 * 300 * 3)), fmt)
    with pytest.raises(ValidationFailed, match="cannot be read"):
        media.prepare(whole[: len(whole) // 2], **LIMITS)
    damaged = whole[:16] + b"\xff\x00" * 200
    with pytest.raises(ValidationFailed, match="cannot be read"):
        media.prepare(damaged, **LIMITS)


def test_too_many_bytes_are_refused() -> None:
    data = camera_jpeg((600, 300))
    with pytest.raises(PayloadTooLarge, match="larger than"):
        media.prepare(data, max_bytes=len(data) - 1, max_pixels=LIMITS["max_pixels"])
    assert media.prepare(data, max_bytes=len(data), max_pixels=LIMITS["max_pixels"])


def test_too_many_pixels_are_refused_before_decoding() -> None:
    data = encode(Image.new("1", (8000, 8000)), "PNG")  # 64 MP, a few kilobytes
    assert len(data) < 20_000
    with pytest.raises(PayloadTooLarge, match=r"8000×8000 pixels \(64 megapixels\).* 40 mega"):
        media.prepare(data, **LIMITS)
    with pytest.raises(PayloadTooLarge, match=r"the largest accepted is 0\.1 megapixels"):
        media.prepare(camera_jpeg((400, 300)), max_bytes=10**7, max_pixels=100_000)


@pytest.mark.parametrize("side", [10_000, 100_000])
def test_decompression_bombs_are_refused_from_their_header(side: int) -> None:
    # 100 MP trips Pillow's warning, 10 GP its error; both are refused before decoding.
    with pytest.raises(PayloadTooLarge, match="megapixels"):
        media.prepare(png_header_only(side, side), max_bytes=10**7, max_pixels=10**12)


def test_the_media_folder_is_beside_the_sqlite_database(tmp_path: Path) -> None:
    assert Settings(database_url=f"sqlite:///{tmp_path}/live.db").media_path == tmp_path / "media"
    assert Settings(database_url="sqlite:///./liveticker.db").media_path == Path("media")
    assert Settings(database_url="sqlite://").media_path == Path("media")
    assert Settings(database_url="postgresql://db/live").media_path == Path("media")
    explicit = Settings(database_url=f"sqlite:///{tmp_path}/live.db", media_dir="/srv/media")
    assert explicit.media_path == Path("/srv/media")


def test_the_format_comes_from_the_bytes_not_the_name() -> None:
    png = encode(Image.new("RGB", (10, 10)), "PNG")
    assert media.sniff(png) == "PNG"
    assert media.sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "WEBP"
    assert media.sniff(b"RIFF\0\0\0\0AVI ") is None
    assert reopen(media.prepare(png, **LIMITS).renditions[0].data).format == "PNG"
