"""Pictures for the pages: the one PNG encoder every page uses.

Plot builders (:mod:`app.plots`) draw interactive figures; this module makes still pictures
(PNG bytes) for ``st.image`` and downloads.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def png_bytes(picture: np.ndarray | Image.Image, compress_level: int = 6) -> bytes:
    """A uint8 array (H, W) or (H, W, 3|4), or a PIL image, as PNG bytes (level 1 is fast, 9 small)."""
    buf = io.BytesIO()
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    image.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()
