"""The two pictures on a flyer: the main photo (bounded, never trusted) and the QR code."""

from __future__ import annotations

import io
import logging
import warnings
from urllib.parse import urlsplit

import qrcode
from PIL import Image, ImageOps

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 20 * 1024 * 1024
# Checked from the header before anything is decoded: a small file can declare a huge canvas.
# A JPEG is decoded at a reduced scale (see `draft`), so it may be larger than other formats,
# which Pillow decodes in full (12 MP of RGBA is 48 MB).
MAX_JPEG_PIXELS = 50_000_000
MAX_OTHER_PIXELS = 12_000_000
# Enough for the photo band at about 250 dpi; larger photos only make the PDF heavier.
PHOTO_MAX_SIDE = 2000
MAX_QR_URL = 1000
QR_MODULE_PX = 10


def load_photo(data: bytes | None) -> Image.Image | None:
    """The photo as an upright RGB image at most PHOTO_MAX_SIDE wide or tall, or None.

    None (and a log line) for no photo, one over the byte or pixel limits, or one Pillow
    cannot decode: the flyer then shows a placeholder instead of failing.
    """
    if not data:
        return None
    if len(data) > MAX_PHOTO_BYTES:
        log.warning("flyer photo skipped", extra={"reason": "too_large", "bytes": len(data)})
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                limit = MAX_JPEG_PIXELS if img.format == "JPEG" else MAX_OTHER_PIXELS
                if width * height > limit:
                    log.warning(
                        "flyer photo skipped",
                        extra={"reason": "too_many_pixels", "width": width, "height": height},
                    )
                    return None
                # Shrink before turning it upright, so that no full-size copy is made; a JPEG
                # even decodes at a reduced scale (1/2 to 1/8) straight away.
                img.draft("RGB", (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
                box = (PHOTO_MAX_SIDE, PHOTO_MAX_SIDE)
                img.thumbnail(box, Image.Resampling.LANCZOS, reducing_gap=None)
                photo = _on_white(ImageOps.exif_transpose(img))
    except Exception as exc:  # Pillow raises many types for a file that is not a readable image
        log.warning(
            "flyer photo skipped", extra={"reason": "unreadable", "error": type(exc).__name__}
        )
        return None
    return photo


def _on_white(img: Image.Image) -> Image.Image:
    # Transparent areas would turn black in a plain RGB conversion.
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img if img.mode == "RGB" else img.convert("RGB")


def jpeg_bytes(photo: Image.Image) -> bytes:
    """The photo as a JPEG, which the PDF embeds as is (far smaller than raw pixels)."""
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=85, optimize=True)
    return buf.getvalue()


def qr_image(url: str | None) -> Image.Image | None:
    """A black-on-white QR code of `url` with its quiet zone, or None for no usable link.

    Only http(s) links get a code: a printed code should open a web page, nothing else.
    """
    if not url or len(url) > MAX_QR_URL:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    size = len(matrix)
    img = Image.new("L", (size, size))
    img.putdata([0 if dark else 255 for row in matrix for dark in row])
    return img.resize((size * QR_MODULE_PX, size * QR_MODULE_PX), Image.Resampling.NEAREST)
