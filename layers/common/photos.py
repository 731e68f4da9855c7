"""A rider's photo made safe to keep: JPEG or PNG only, size-limited, decoded once and re-encoded as a new JPEG.

Re-encoding from the pixels drops every metadata block of the upload (EXIF with GPS position and
phone model, XMP, IPTC, ICC, PNG text chunks); the orientation the phone recorded is applied to the
pixels first, so the picture still stands the right way up.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from layers.common.errors import QuestionError

MAX_BYTES = 8 * 1024 * 1024
#: Refused before decoding: a 40-megapixel picture is far more than any phone takes.
MAX_PIXELS = 40_000_000
#: The kept picture's longer side.
MAX_SIDE = 1600
QUALITY = 82
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class Photo:
    image: bytes
    media_type: str
    width: int
    height: int


def clean_photo(data, field: str = "photo") -> Photo:
    """The photo re-encoded as a JPEG without metadata, at most :data:`MAX_SIDE` pixels on its longer side.

    Raises QuestionError naming ``field`` for anything that is not a JPEG or PNG picture within the limits.
    """
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise QuestionError(field, "expected a photo: a JPEG or PNG file")
    if len(data) > MAX_BYTES:
        raise QuestionError(field, f"the photo is {len(data) / 1e6:.1f} MB; at most {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(bytes(data))) as img:
                if img.format not in FORMATS:
                    raise QuestionError(field, f"expected a JPEG or PNG photo, not {img.format or 'this file'}")
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise QuestionError(field, f"the photo is {width}×{height} pixels; at most "
                                               f"{MAX_PIXELS // 1_000_000} megapixels")
                img.draft("RGB", (MAX_SIDE, MAX_SIDE))   # JPEG: decode at a reduced scale when it is large
                img = ImageOps.exif_transpose(img)
                img.thumbnail((MAX_SIDE, MAX_SIDE))
                if img.mode in ("RGBA", "LA", "P", "PA"):
                    img = img.convert("RGBA")
                    flat = Image.new("RGB", img.size, "white")
                    flat.paste(img, mask=img.getchannel("A"))
                    img = flat
                elif img.mode != "RGB":
                    img = img.convert("RGB")
                out = io.BytesIO()
                img.save(out, "JPEG", quality=QUALITY, optimize=True)   # no exif=, no icc_profile=: none is kept
                return Photo(out.getvalue(), "image/jpeg", img.width, img.height)
    except QuestionError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise QuestionError(field, f"the photo has far too many pixels; at most {MAX_PIXELS // 1_000_000} "
                                   "megapixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise QuestionError(field, f"expected a JPEG or PNG photo that opens ({type(exc).__name__})") from None
