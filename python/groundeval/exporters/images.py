# SPDX-License-Identifier: Apache-2.0
"""Opening the image of a caption (Pillow), checked against the data set's image size."""
from __future__ import annotations

import os
from typing import Callable, Optional

from .queries import ExportError, SentenceQueries


def image_loader(image_root: Optional[str] = None, ext: str = ".jpg") -> Callable:
    """A `load_image(group)` that opens the query's image_path, or IMAGE_ROOT/<image id><ext>
    when the queries carry none, as an RGB PIL image. An image whose size differs from the data
    set's (boxes would be scaled wrongly) is an ExportError naming the file."""

    def load(group: SentenceQueries):
        from PIL import Image

        path = group.image_path
        if image_root is not None:
            path = os.path.join(image_root, group.image_id + ext)
        if not path:
            raise ExportError(f"image {group.image_id}: the queries name no image file; pass "
                              f"the image folder (image_root / --images)")
        try:
            img = Image.open(path).convert("RGB")
        except OSError as e:
            raise ExportError(f"{path}: cannot open the image of {group.image_id}: {e}") from None
        if tuple(img.size) != tuple(group.image_size):
            raise ExportError(f"{path}: image is {img.size[0]}x{img.size[1]}, the data set says "
                              f"{group.image_size[0]}x{group.image_size[1]}")
        return img

    return load
