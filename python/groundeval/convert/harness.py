# SPDX-License-Identifier: Apache-2.0
"""What the converters of other harnesses' RefCOCO-style outputs share (``lmms_eval_log``,
``vlmevalkit``): the groundeval keys of an MDETR refexp data set, matching a harness's row to
its entry, and writing groundeval predictions JSON Lines rows that carry the model's raw text.

A harness's row names its referring expression and its ground-truth box (normalized to the image
size) but not groundeval's keys, and often not the image: VLMEvalKit's result files hold no image
name at all. So a row is matched to the data set entry whose ground-truth box, divided by the
image size, equals the row's within a tolerance, preferring the entry whose expression is the
same text (case and blanks ignored). Entries with the same box have the same ground truth, so a
row matched by its box alone scores exactly as its own entry would; such matches are counted.

The keys are those of groundeval's MDETR loader (include/groundeval/datasets/json/mdetr.hpp):
image_id = ``original_img_id``, else the ``file_name`` without folder and extension, else the
entry's ``id``; sentence_id = ``sentence_id``, else the running index of the image's entries in
file order; one phrase (index 0) per entry.

Pure Python (json only).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .mdetr_format import ConvertError

DEFAULT_BOX_TOLERANCE = 1e-5  # of the image side; VLMEvalKit writes 6 decimals


def parse_json(text: str, where: str, kind: type, what: str):
    """`text` as JSON of type `kind`; ConvertError "where: ..." otherwise."""
    try:
        v = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConvertError(f"{where}: not JSON: {e}") from None
    if not isinstance(v, kind):
        raise ConvertError(f"{where}: expected {what}")
    return v


def norm_text(s) -> str:
    return " ".join(str(s).lower().split())


@dataclass
class Entry:
    image_id: str
    sentence_id: int
    caption: str
    width: int
    height: int
    box: Tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels (first annotation)
    extra: dict = field(default_factory=dict)

    @property
    def norm_box(self) -> Tuple[float, float, float, float]:
        w, h = self.width, self.height
        return (self.box[0] / w, self.box[1] / h, self.box[2] / w, self.box[3] / h)


def _image_id(im: dict, where: str) -> str:
    if "original_img_id" in im:
        return str(im["original_img_id"])
    if "file_name" in im:
        stem = os.path.basename(str(im["file_name"]))
        return os.path.splitext(stem)[0] if "." in stem else stem
    if "id" not in im:
        raise ConvertError(f"{where}: no 'id'")
    return str(im["id"])


class RefexpIndex:
    """The entries of an MDETR refexp JSON (one referring expression each) and the matcher."""

    _BUCKET = 200  # coarse grid of normalized x1, y1 for candidate lookup

    def __init__(self, path: str, tolerance: float = DEFAULT_BOX_TOLERANCE):
        self.path = path
        self.tolerance = float(tolerance)
        try:
            with open(path, encoding="utf-8-sig") as f:
                doc = json.load(f)
        except json.JSONDecodeError as e:
            raise ConvertError(f"{path}: not JSON: {e}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
            raise ConvertError(f"{path}: not an MDETR annotation file (no 'images' list)")
        boxes: Dict[object, List[float]] = {}
        for j, a in enumerate(doc.get("annotations", [])):
            iid = a.get("image_id")
            if iid not in boxes:
                b = a.get("bbox")
                if not (isinstance(b, list) and len(b) == 4):
                    raise ConvertError(f"{path}: annotations[{j}]: 'bbox' must be [x, y, w, h]")
                boxes[iid] = [float(v) for v in b]
        self.entries: List[Entry] = []
        next_sentence: Dict[str, int] = {}
        for i, im in enumerate(doc["images"]):
            where = f"{path}: images[{i}]"
            if "tokens_positive_eval" in im:
                raise ConvertError(f"{where}: a Flickr30k-style entry (tokens_positive_eval); "
                                   "the harness converters take RefCOCO-style files")
            image_id = _image_id(im, where)
            if "sentence_id" in im:
                sid = int(im["sentence_id"])
            else:
                sid = next_sentence.get(image_id, 0)
                next_sentence[image_id] = sid + 1
            b = boxes.get(im.get("id"))
            if b is None:
                continue  # no ground truth: not evaluated, nothing to match
            try:
                w, h = int(im["width"]), int(im["height"])
            except (KeyError, TypeError, ValueError):
                raise ConvertError(f"{where}: no integer 'width' / 'height'") from None
            if w <= 0 or h <= 0:
                raise ConvertError(f"{where}: image size {w}x{h} is not positive")
            extra = {k: im[k] for k in ("question_id", "answer_index") if k in im}
            self.entries.append(Entry(image_id, sid, str(im.get("caption", "")), w, h,
                                      (b[0], b[1], b[0] + b[2], b[1] + b[3]), extra))
        if not self.entries:
            raise ConvertError(f"{path}: no entry with a ground-truth box")
        self._grid: Dict[Tuple[int, int], List[int]] = {}
        for k, e in enumerate(self.entries):
            self._grid.setdefault(self._cell(e.norm_box), []).append(k)
        self._used = [False] * len(self.entries)
        self.by_text = 0
        self.by_box = 0

    def _cell(self, nb) -> Tuple[int, int]:
        return (int(math.floor(nb[0] * self._BUCKET)), int(math.floor(nb[1] * self._BUCKET)))

    def match(self, expression: Optional[str], norm_box: Sequence[float], where: str
              ) -> Optional[Entry]:
        """The unused entry whose normalized box is within the tolerance of `norm_box`, the one
        with the same expression first; None when there is none."""
        nb = [float(v) for v in norm_box]
        if len(nb) != 4 or not all(math.isfinite(v) for v in nb):
            raise ConvertError(f"{where}: ground-truth box {list(norm_box)} is not 4 numbers")
        cx, cy = self._cell(nb)
        near = sorted(k for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                      for k in self._grid.get((cx + dx, cy + dy), ())
                      if not self._used[k] and max(abs(a - b) for a, b in zip(
                          self.entries[k].norm_box, nb)) <= self.tolerance)
        if not near:
            return None
        want = norm_text(expression) if expression is not None else None
        same = [k for k in near if want is not None and norm_text(self.entries[k].caption) == want]
        best = (same[0], True) if same else (near[0], False)
        self._used[best[0]] = True
        if best[1]:
            self.by_text += 1
        else:
            self.by_box += 1
        return self.entries[best[0]]


def harness_row(entry: Entry, raw_text: str, harness_box_norm: Optional[Sequence[float]],
                decoded_by: str, how: str, extra: Optional[dict] = None,
                no_box: Optional[str] = None) -> dict:
    """One groundeval predictions row: the raw text, and as `boxes` the harness's own decoded box
    (normalized to the image, scaled here to its pixels) when there is one (status ok), else no
    box (status empty). `geometry` says the boxes are the harness's reading, not groundeval's;
    `groundeval evaluate --family F` replaces them with F's reading of raw_text."""
    row = {"image_id": entry.image_id, "sentence_id": entry.sentence_id, "phrase_index": 0,
           "phrase": entry.caption}
    boxes = []
    if harness_box_norm is not None:
        b = [float(v) for v in harness_box_norm]
        if len(b) == 4 and all(math.isfinite(v) for v in b):
            boxes = [[b[0] * entry.width, b[1] * entry.height, b[2] * entry.width,
                      b[3] * entry.height]]
    row["boxes"] = boxes
    row["status"] = "ok" if boxes else "empty"
    row["message"] = (f"boxes: {decoded_by}'s own reading of the answer ({how})" if boxes else
                      no_box or f"no box decoded by {decoded_by}")
    row["raw_text"] = raw_text
    geometry = {"decoded_by": decoded_by, "reading": how}
    if extra:
        geometry.update(extra)
    row["geometry"] = geometry
    return row


def write_rows(rows: List[dict], out_path: str) -> str:
    with open(out_path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return out_path


@dataclass
class ConvertSummary:
    rows: int = 0
    by_text: int = 0
    by_box: int = 0
    skipped: int = 0
    skipped_examples: List[str] = field(default_factory=list)

    def line(self) -> str:
        s = (f"{self.rows} rows written ({self.by_text} matched by box and expression, "
             f"{self.by_box} by box only)")
        if self.skipped:
            s += f"; {self.skipped} skipped (no entry), e.g. {self.skipped_examples[0]}"
        return s


def match_or_skip(index: RefexpIndex, expression, norm_box, where: str, skip_unmatched: bool,
                  summary: ConvertSummary) -> Optional[Entry]:
    e = index.match(expression, norm_box, where)
    if e is None:
        msg = (f"{where}: no unused entry of {index.path} has the ground-truth box "
               f"{[round(float(v), 6) for v in norm_box]} (normalized; tolerance "
               f"{index.tolerance:g}) for {expression!r}")
        if not skip_unmatched:
            raise ConvertError(msg + " (another split or data set? --skip-unmatched skips such "
                               "rows)")
        summary.skipped += 1
        if len(summary.skipped_examples) < 5:
            summary.skipped_examples.append(msg)
    return e
