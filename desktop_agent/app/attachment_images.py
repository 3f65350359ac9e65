"""Images for the model: turned upright, metadata dropped, downscaled, re-encoded."""

from __future__ import annotations

import io
import warnings

from .attachments import IMAGE_MIMES, Attachment, AttachmentError, AttachmentLimits, human_size

__all__ = ["prepare_image"]

#: Keys of `Image.info` that say how to show the pixels, nothing about who or where;
#: an image with any other key (EXIF, XMP, text chunks, ICC, comments) is re-encoded.
_HARMLESS = frozenset(
    (
        *("dpi", "gamma", "transparency", "aspect", "interlace", "jfif", "jfif_version"),
        *("jfif_unit", "jfif_density", "progressive", "progression", "loop", "duration"),
        *("background", "version", "srgb", "adobe", "adobe_transform", "lossless"),
    )
)


def prepare_image(name: str, data: bytes, limits: AttachmentLimits) -> Attachment:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns (DecompressionBombWarning) between 1x and 2x its limit;
            # our own limit below decides, from the header alone.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        fmt = image.format or ""
        width, height = image.size
        if width * height > limits.max_pixels:
            raise AttachmentError(
                f"{name} is {width}×{height} pixels; images up to "
                f"{limits.max_pixels // 1_000_000} megapixels can be attached."
            )
        if fmt not in IMAGE_MIMES:
            raise AttachmentError(
                f"{name} is a {fmt or 'unknown'} image; PNG, JPEG, WebP and GIF can be attached."
            )
        animated = getattr(image, "n_frames", 1) > 1
        image.seek(0)  # GIF / WebP: the first frame
        has_meta = any(key not in _HARMLESS for key in image.info)
        orientation = image.getexif().get(0x0112, 1) if fmt in ("JPEG", "WEBP", "PNG") else 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
    except AttachmentError:
        raise
    except UnidentifiedImageError:
        raise AttachmentError(f"{name} is damaged or not an image Pillow can read.") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise AttachmentError(f"{name} is not a readable image ({exc}).") from None
    except Image.DecompressionBombError:
        raise AttachmentError(f"{name} is too large an image to open safely.") from None

    side = limits.image_side
    needs_scaling = max(width, height) > side
    notes: list[str] = []
    if (
        not needs_scaling
        and not has_meta
        and orientation in (0, 1)
        and not animated
        and len(data) <= limits.image_bytes
    ):
        return Attachment(name, "image", IMAGE_MIMES[fmt], data, len(data), "", width, height)

    try:
        if orientation not in (0, 1):
            upright: Image.Image = ImageOps.exif_transpose(image) or image
            image = upright  # type: ignore[assignment]
        if needs_scaling:
            image.thumbnail((side, side), Image.Resampling.LANCZOS)
            notes.append(f"scaled from {width}×{height} to {image.width}×{image.height}")
        if animated:
            notes.append("first frame of an animation")
        out_fmt, mime = _output_format(fmt, image)
        encoded = _encode(image, out_fmt, limits.jpeg_quality)
    except OSError as exc:
        raise AttachmentError(f"{name} is not a readable image ({exc}).") from None
    if len(encoded) > limits.image_bytes:
        raise AttachmentError(
            f"{name} is still {human_size(len(encoded))} after scaling; images up to "
            f"{human_size(limits.image_bytes)} can be sent."
        )
    return Attachment(
        name, "image", mime, encoded, len(data), "; ".join(notes), image.width, image.height
    )


def _output_format(fmt: str, image: object) -> tuple[str, str]:
    """JPEG stays JPEG; everything else becomes PNG (lossless, keeps transparency)."""
    if fmt == "JPEG":
        return "JPEG", "image/jpeg"
    return "PNG", "image/png"


def _encode(image: object, fmt: str, quality: int) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    buffer = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        # No exif=, no icc_profile=, and no info for Pillow to carry over (comments,
        # XMP): nothing of the original's metadata is written.
        image.info.clear()
        image.save(buffer, "JPEG", quality=quality)
    else:
        if (image.mode == "P" and "transparency" in image.info) or image.mode not in (
            "RGB",
            "RGBA",
            "L",
            "LA",
            "P",
        ):
            image = image.convert("RGBA")
        image.info.clear()  # no text chunks, ICC or EXIF carried over
        image.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()
