"""Images made in the tests, as the bytes a camera, a phone or an attacker would send."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import ExifTags, Image, ImageCms, PngImagePlugin

GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
}
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">where-the-source-lives</x:xmpmeta>'
RED = (220, 20, 20)
BLUE = (20, 20, 220)


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def two_colours(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Red on the left half, blue on the right: shows which way an image was turned."""
    width, height = size
    image = Image.new(mode, size, BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def camera_jpeg(size: tuple[int, int] = (2400, 1200), *, orientation: int = 1) -> bytes:
    """A phone's photo: EXIF with the camera, the place (GPS) and an orientation; XMP; ICC."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Reporter's phone"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(two_colours(size), "JPEG", exif=exif, xmp=XMP, icc_profile=icc, quality=92)


def tagged_png(size: tuple[int, int] = (800, 400)) -> bytes:
    """A PNG with EXIF (GPS), XMP, an ICC profile and a text chunk naming the source."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = GPS
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "PhoneMaker, shot at the source's flat")
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(two_colours(size), "PNG", exif=exif, pnginfo=text, icc_profile=icc)


def tagged_webp(size: tuple[int, int] = (800, 400)) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = GPS
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(two_colours(size), "WEBP", exif=exif, xmp=XMP, icc_profile=icc)


def png_header_only(width: int, height: int) -> bytes:
    """A 1-bit PNG that claims width × height but holds only a few rows: a bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (8 * (width // 8 + 1)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    """Nothing of the upload's metadata is left: no EXIF (so no GPS), no XMP, no ICC."""
    image = reopen(data)
    exif = image.getexif()
    assert dict(exif) == {}
    assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"} & set(image.info)
    assert b"Exif\0\0" not in data
    assert b"where-the-source-lives" not in data
    assert b"PhoneMaker" not in data
