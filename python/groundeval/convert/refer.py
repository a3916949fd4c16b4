# SPDX-License-Identifier: Apache-2.0
"""The refer toolkit's files (lichengunc/refer: ``refs(unc).p`` / ``refs(umd).p`` /
``refs(google).p`` and ``instances.json``) → MDETR's refexp JSON for one split.

Each ref is {ref_id, ann_id, image_id, split, sentences: [{raw, sent, tokens, sent_id}], ...};
its box is the COCO annotation ``ann_id`` of instances.json, its image the COCO image
``image_id`` (``file_name`` such as COCO_train2014_000000581857.jpg). Every sentence becomes one
expression. ``caption="raw"`` (default) keeps the annotator's text; ``"sent"`` the toolkit's
lower-cased, tokenized form.
"""
from __future__ import annotations

import json
import pickle

from .mdetr_format import ConvertError, MdetrRefexpBuilder


def load_refs(path: str):
    with open(path, "rb") as f:
        try:
            refs = pickle.load(f)
        except UnicodeDecodeError:  # pickled by Python 2
            f.seek(0)
            refs = pickle.load(f, encoding="latin1")
        except Exception as e:
            raise ConvertError(f"{path}: not a refer toolkit pickle: {e}") from None
    if not isinstance(refs, list):
        raise ConvertError(f"{path}: expected a list of refs, got {type(refs).__name__}")
    return refs


def convert(refs_path: str, instances_path: str, split: str, out_path: str, *,
            dataset_name: str = "refcoco", caption: str = "raw") -> str:
    if caption not in ("raw", "sent"):
        raise ConvertError(f"caption must be 'raw' or 'sent', not {caption!r}")
    refs = load_refs(refs_path)
    with open(instances_path, encoding="utf-8") as f:
        try:
            inst = json.load(f)
        except json.JSONDecodeError as e:
            raise ConvertError(f"{instances_path}: not JSON: {e}") from None
    images = {im["id"]: im for im in inst.get("images", [])}
    anns = {a["id"]: a for a in inst.get("annotations", [])}
    splits = sorted({str(r.get("split")) for r in refs})
    if split not in splits:
        raise ConvertError(f"{refs_path}: no ref in split {split!r} (splits: {', '.join(splits)})")
    b = MdetrRefexpBuilder(dataset_name)
    for i, r in enumerate(refs):
        if str(r.get("split")) != split:
            continue
        where = f"{refs_path}: ref {i} (ref_id {r.get('ref_id')})"
        ann = anns.get(r.get("ann_id"))
        im = images.get(r.get("image_id"))
        if ann is None or im is None:
            raise ConvertError(f"{where}: annotation {r.get('ann_id')} or image "
                               f"{r.get('image_id')} is not in {instances_path}")
        for s in r.get("sentences", []):
            b.add(file_name=im["file_name"], width=int(im["width"]), height=int(im["height"]),
                  caption=s.get(caption, ""), bbox=ann["bbox"], original_img_id=im["id"],
                  original_ann_id=ann["id"], category_id=ann.get("category_id", 1),
                  extra={"sentence_id_refer": s.get("sent_id"), "ref_id": r.get("ref_id")},
                  where=where)
    return b.write(out_path)
