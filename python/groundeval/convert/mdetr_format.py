# SPDX-License-Identifier: Apache-2.0
"""Building MDETR's COCO-style RefExp annotation JSON.

One ``images`` entry per referring expression (``caption``) with the COCO image's
``file_name``, ``height``, ``width``, ``original_id`` (COCO image id) and
``tokens_negative`` [[0, len(caption)]]; one ``annotations`` entry per expression with the
referred box (COCO ``bbox`` x, y, w, h in pixels), ``tokens_positive`` [[0, len(caption)]] and
``original_id`` (the COCO annotation id). This is the layout of MDETR's refexp files
(``finetune_refcoco_val.json`` ...); groundeval keys such a file's samples by the file name stem
and numbers each image's expressions in file order.
"""
from __future__ import annotations

import json
import math
from typing import List, Optional, Sequence


class ConvertError(Exception):
    """Input that cannot be converted; the message names the file and the item."""


class MdetrRefexpBuilder:
    def __init__(self, dataset_name: str):
        self.dataset_name = dataset_name
        self.images: List[dict] = []
        self.annotations: List[dict] = []
        self.categories = {}

    def add(self, *, file_name: str, width: int, height: int, caption: str,
            bbox: Sequence[float], original_img_id=None, original_ann_id=None,
            category_id: int = 1, extra: Optional[dict] = None, where: str = ""):
        caption = " ".join(str(caption).split())
        if not caption:
            raise ConvertError(f"{where}: empty referring expression")
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            raise ConvertError(f"{where}: image size {width}x{height} is not positive")
        b = [float(v) for v in bbox]
        if len(b) != 4 or not all(math.isfinite(v) for v in b) or b[2] <= 0 or b[3] <= 0:
            raise ConvertError(f"{where}: bbox {list(bbox)} is not a positive [x, y, w, h]")
        img_id = len(self.images)
        im = {"file_name": file_name, "height": height, "width": width, "id": img_id,
              "caption": caption, "dataset_name": self.dataset_name,
              "tokens_negative": [[0, len(caption)]]}
        if original_img_id is not None:
            im["original_id"] = original_img_id
        if extra:
            im.update(extra)
        self.images.append(im)
        ann = {"area": b[2] * b[3], "iscrowd": 0, "image_id": img_id,
               "category_id": int(category_id), "id": len(self.annotations), "bbox": b,
               "tokens_positive": [[0, len(caption)]]}
        if original_ann_id is not None:
            ann["original_id"] = original_ann_id
        self.annotations.append(ann)
        self.categories.setdefault(int(category_id), {"supercategory": "object",
                                                      "id": int(category_id), "name": "object"})

    def write(self, path: str):
        if not self.images:
            raise ConvertError(f"{path}: nothing to write (no expression in the chosen split)")
        doc = {"info": {"description": f"{self.dataset_name} in MDETR's refexp format, written "
                                       f"by groundeval.convert"}, "licenses": [],
               "images": self.images, "annotations": self.annotations,
               "categories": sorted(self.categories.values(), key=lambda c: c["id"])}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        return path
