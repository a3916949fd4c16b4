# SPDX-License-Identifier: Apache-2.0
"""Hugging Face parquet copies of RefCOCO/+/g (lmms-lab/RefCOCO, RefCOCOplus, RefCOCOg: one row
per referred object with ``image`` {bytes}, ``bbox`` [x, y, w, h] in pixels, ``answer`` = the
list of its referring expressions, and usually ``file_name`` / ``question_id``) → MDETR's
refexp JSON; optionally the images written out as files for ``--images``.

Every expression of ``answer`` becomes one entry (as lmms-eval explodes them). Image size comes
from the decoded image (Pillow). Needs pyarrow.
"""
from __future__ import annotations

import hashlib
import io
import os
from typing import Iterable, Optional

from .mdetr_format import ConvertError, MdetrRefexpBuilder


def _image_bytes(v, where: str) -> bytes:
    if isinstance(v, dict):
        v = v.get("bytes")
    if not isinstance(v, (bytes, bytearray)) or not v:
        raise ConvertError(f"{where}: column 'image' holds no image bytes")
    return bytes(v)


def convert(parquet_files: Iterable[str], out_path: str, *, dataset_name: str = "refcoco",
            images_out: Optional[str] = None) -> str:
    import pyarrow.parquet as pq
    from PIL import Image

    b = MdetrRefexpBuilder(dataset_name)
    if images_out:
        os.makedirs(images_out, exist_ok=True)
    for path in parquet_files:
        try:
            table = pq.read_table(path)
        except Exception as e:
            raise ConvertError(f"{path}: cannot read the parquet file: {e}") from None
        cols = set(table.column_names)
        missing = {"image", "bbox", "answer"} - cols
        if missing:
            raise ConvertError(f"{path}: missing column(s) {', '.join(sorted(missing))} "
                               f"(has {', '.join(sorted(cols))})")
        for i, row in enumerate(table.to_pylist()):
            where = f"{path}: row {i}"
            data = _image_bytes(row["image"], where)
            try:
                with Image.open(io.BytesIO(data)) as img:
                    w, h = img.size
            except OSError as e:
                raise ConvertError(f"{where}: cannot decode the image: {e}") from None
            name = row.get("file_name") or (hashlib.sha1(data).hexdigest()[:16] + ".jpg")
            name = os.path.basename(str(name))
            if images_out:
                dst = os.path.join(images_out, name)
                if not os.path.exists(dst):
                    with open(dst, "wb") as f:
                        f.write(data)
            answers = row["answer"]
            if isinstance(answers, str):
                answers = [answers]
            if not answers:
                raise ConvertError(f"{where}: no referring expression in 'answer'")
            for k, a in enumerate(answers):
                b.add(file_name=name, width=w, height=h, caption=a, bbox=row["bbox"],
                      original_img_id=row.get("image_id"), extra={"question_id": row.get(
                          "question_id"), "answer_index": k}, where=where)
    return b.write(out_path)
