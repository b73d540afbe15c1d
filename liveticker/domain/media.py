"""Uploaded images: read from their bytes, checked, stripped of metadata, stored in a few widths.

Nothing of an upload is kept as it was sent. The format comes from the bytes (JPEG, PNG,
WebP or GIF), the pixel count from the header before anything is decoded, and then only
the pixels travel on: turned upright by the EXIF orientation, converted to sRGB and
written afresh, without EXIF (GPS included), XMP, ICC or text chunks. Each stored file
has a random name that never changes, so it is cached for a year and tells nothing.
"""

from __future__ import annotations

import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps
from sqlalchemy.orm import Session

from liveticker.domain.accounts import Actor
from liveticker.domain.permissions import require_staff
from liveticker.exceptions import PayloadTooLarge, ValidationFailed
from liveticker.storage.models import Media

# The widths of the srcset, never upscaled: an image narrower than the largest gets its own
# width as its largest. 44rem (704 px) is the page's column, so 1600 covers 2x screens.
WIDTHS = (480, 960, 1600)
# WebP's longest side: a very tall image is stored narrower, so that its height fits.
MAX_SIDE = 16_383
JPEG_QUALITY = 82
WEBP_QUALITY = 80
# What a multipart body adds around the file (boundaries, part headers, a short field).
UPLOAD_OVERHEAD = 64 * 1024

# What is stored for each format read: a GIF keeps its first frame, as a PNG.
_STORED = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG"}
_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True, kw_only=True)
class Library:
    """Where uploads are stored and served from, and how large they may be (from settings)."""

    directory: Path
    url: str  # the prefix of the stored files' URLs: a path on this site, or a CDN's URL
    max_bytes: int
    max_pixels: int

    def url_of(self, file: str) -> str:
        return f"{self.url.rstrip('/')}/{file}"

    @property
    def served_here(self) -> bool:
        """Does this app serve the files itself (the prefix is a path on this site)?"""
        return self.url.startswith("/") and not self.url.startswith("//")

    @property
    def body_limit(self) -> int:
        """The largest request body of an upload: the largest file and its multipart dress."""
        return self.max_bytes + UPLOAD_OVERHEAD


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class Prepared:
    """An upload made safe: what it was, what is stored, and its renditions, narrowest first."""

    source_format: str  # JPEG, PNG, WEBP or GIF
    format: str  # JPEG, PNG or WEBP
    renditions: list[Rendition]

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.format]


def sniff(data: bytes) -> str | None:
    """The image format the bytes begin with, whatever the file's name or type said."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def prepare(data: bytes, *, max_bytes: int, max_pixels: int) -> Prepared:
    """Check an upload and re-encode it in the widths of WIDTHS (no database, no files)."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the image is larger than {_readable(max_bytes)}", field="file")
    source_format = sniff(data)
    if source_format is None:
        raise ValidationFailed("the file is not a JPEG, PNG, WebP or GIF image", field="file")
    # Pillow's own limit: above it, it warns (or errs) before our check could answer.
    max_pixels = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    image = _decode(data, source_format, max_pixels=max_pixels)
    stored = _STORED[source_format]
    width, height = image.size
    renditions = []
    for target in _widths(width, height):
        size = (target, max(1, round(height * target / width)))
        resized = image if size == image.size else _resize(image, size)
        renditions.append(Rendition(size[0], size[1], _encode(resized, stored)))
    return Prepared(source_format=source_format, format=stored, renditions=renditions)


def upload(session: Session, *, actor: Actor | None, data: bytes, library: Library) -> Media:
    """Store an uploaded image for staff, and record who uploaded it.

    The files are written before the row: a transaction that fails afterwards leaves
    files that nothing links to, never a row without its files. The session is first
    used after the decoding, so a large image does not hold a write transaction open.
    """
    actor = require_staff(actor)
    prepared = prepare(data, max_bytes=library.max_bytes, max_pixels=library.max_pixels)
    key = secrets.token_hex(16)
    files = []
    for rendition in prepared.renditions:
        name = f"{key[:2]}/{key}-{rendition.width}.{prepared.extension}"
        _write(library.directory / name, rendition.data)
        files.append(
            {
                "file": name,
                "width": rendition.width,
                "height": rendition.height,
                "bytes": len(rendition.data),
            }
        )
    largest = prepared.renditions[-1]
    media = Media(
        key=key,
        format=prepared.format.lower(),
        source_format=prepared.source_format.lower(),
        width=largest.width,
        height=largest.height,
        size_bytes=len(data),
        renditions=files,
        uploaded_by=actor.user_id,
    )
    session.add(media)
    session.flush()
    return media


def _decode(data: bytes, source_format: str, *, max_pixels: int) -> Image.Image:
    """The first frame's pixels, upright, in sRGB, as L, RGB or RGBA, with no metadata."""
    try:
        image = Image.open(io.BytesIO(data), formats=[source_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own check (header only): over 179 MP it refuses, over 89 MP it warns,
        # which is an error where warnings are errors (the tests).
        raise PayloadTooLarge(
            f"the image has more than {_megapixels(max_pixels)} megapixels", field="file"
        ) from None
    except Exception:  # whatever a decoder raises on hostile bytes is the file's fault
        raise _unreadable(source_format) from None
    width, height = image.size
    if width * height > max_pixels:
        raise PayloadTooLarge(
            f"the image is {width}×{height} pixels ({_megapixels(width * height)} megapixels); "
            f"the largest accepted is {_megapixels(max_pixels)} megapixels",
            field="file",
        )
    if source_format == "JPEG":  # decode at 1/2, 1/4 or 1/8 if still wider than needed
        image.draft(None, (WIDTHS[-1], WIDTHS[-1]))
    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        pixels = _pixels(image)
    except Exception:  # truncated, corrupt or unsupported inside: not an image we can use
        raise _unreadable(source_format) from None
    pixels.info.clear()  # nothing read from the file is written again
    return pixels


def _pixels(image: Image.Image) -> Image.Image:
    """sRGB pixels in a mode every encoder takes (JPEG: L or RGB)."""
    profile = image.info.get("icc_profile")
    if profile and image.mode in ("RGB", "RGBA", "CMYK"):
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        try:
            converted = ImageCms.profileToProfile(
                image, io.BytesIO(profile), _SRGB, outputMode=mode
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a profile lcms cannot read: the pixels as they are
        if converted is not None:
            image = converted
    if image.mode.startswith("I"):  # 16-bit greys: scale, as convert("L") would clip them
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or image.has_transparency_data:
        target = "RGBA"
    elif image.mode in ("1", "L"):
        target = "L"
    else:
        target = "RGB"
    return image if image.mode == target else image.convert(target)


def _widths(width: int, height: int) -> list[int]:
    if height > width * MAX_SIDE:
        raise ValidationFailed("the image is too narrow for its height", field="file")
    largest = min(width, WIDTHS[-1], width * MAX_SIDE // height)
    return [target for target in WIDTHS if target < largest] + [largest]


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    # reducing_gap: a fast box reduction first, then Lanczos; indistinguishable, much faster.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image: Image.Image, stored: str) -> bytes:
    image.info.clear()  # the PNG encoder would otherwise fall back to info's ICC profile
    buffer = io.BytesIO()
    if stored == "JPEG":
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif stored == "WEBP":
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a file appears under its name only once it is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def _unreadable(source_format: str) -> ValidationFailed:
    name = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF"}[source_format]
    return ValidationFailed(
        f"the file starts like a {name} image but cannot be read (truncated or damaged?)",
        field="file",
    )


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0")


def _readable(size: int) -> str:
    for unit, scale in (("MB", 1_048_576), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit} ({size} bytes)"
    return f"{size} bytes"
