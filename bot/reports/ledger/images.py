"""A meeting photo made ready for a page: read with Pillow, turned into PNG when the writers
cannot take its format, and scaled to fit the width (and a share of the height) given."""

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from handlers.orglife.ledger import Photo

KEPT = {"JPEG", "PNG", "GIF", "BMP"}


@dataclass(frozen=True)
class Fitted:
    content: bytes
    width: float  # in the caller's unit
    height: float


def fitted(photo: Photo, max_width: float, max_height: float) -> Fitted | None:
    """The photo's bytes and its size within the box, or None if it is no image Pillow reads."""
    try:
        with Image.open(io.BytesIO(photo.content)) as image:
            image.load()
            pixels_w, pixels_h = image.size
            content = photo.content
            if image.format not in KEPT:
                out = io.BytesIO()
                image.convert("RGB").save(out, "PNG")
                content = out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    scale = min(max_width / pixels_w, max_height / pixels_h)
    return Fitted(content, pixels_w * scale, pixels_h * scale)
