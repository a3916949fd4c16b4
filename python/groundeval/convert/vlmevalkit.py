# SPDX-License-Identifier: Apache-2.0
"""VLMEvalKit RefCOCO result files → groundeval predictions JSON Lines carrying the model's raw
answers (rescored with ``groundeval evaluate --family F``).

What VLMEvalKit writes, and what is read here (open-compass/VLMEvalKit @e8e78f0):

* Inference (``vlmeval/inference.py`` ``infer_data_job``) writes the data set's table without
  its ``image`` column plus a ``prediction`` column (the model's text) to
  ``<work_dir>/<model>_<dataset>.xlsx`` — or ``.tsv`` / ``.json`` with ``PRED_FORMAT=tsv|json``
  (``vlmeval/smp/file.py``: TSV written by pandas with every field quoted, JSON a list of
  records). Evaluation writes ``..._detail`` next to it with ``pred_bbox`` (VLMEvalKit's own
  reading), ``iou``, ``hit`` and ``split`` added.
* The RefCOCO data set (``vlmeval/dataset/refcoco.py``, PR #1305, 2025-11; the TSV
  mjuicem/RefCOCO-VLMEvalKit holds all eight RefCOCO/+/g splits): ``index``, ``question`` (the
  prompt, the expression inside ``<ref>...</ref>``: "Please provide the bounding box coordinate
  of the region this sentence describes: <ref>{}</ref>"), ``answer`` (the ground-truth box
  ``[x1, y1, x2, y2]`` as fractions of the image, 6 decimals) and ``category`` (e.g.
  "RefCOCO+ test-A"), as a row quoted in VLMEvalKit issue #1330 shows. The loader adds ``split``
  (e.g. ``RefCOCO+_testA``), ``dataset``, ``width`` / ``height`` (1.0 when the TSV has none),
  ``bbox_x1..bbox_y2`` and ``bbox_x1_norm..bbox_y2_norm``, and prefixes ``index`` with the split.
  No column names the image: rows are matched to the groundeval data set by their ground-truth
  box and expression (``harness.py``).
* ``pred_bbox`` is in units of the row's ``width`` / ``height`` (fractions when those are the
  default 1.0); it is divided by them here and scaled to the data set's image size.

Which columns hold the ground truth is decided per row as VLMEvalKit's loader does: the
``bbox_*_norm`` columns, else ``bbox_x1..bbox_y2`` divided by ``width`` / ``height``, else the
numbers of ``answer`` (fractions when none exceeds 1.5, else pixels of ``width`` x ``height``).
UNVERIFIED: the exact column set of the hosted TSV (only one quoted row was found); options
name other columns (``--expression-column``, ``--expression-regex``).
"""
from __future__ import annotations

import csv
import math
import re
import sys
from typing import Dict, Iterator, List, Optional, Tuple

from .harness import (DEFAULT_BOX_TOLERANCE, ConvertSummary, RefexpIndex, harness_row,
                      match_or_skip, parse_json, write_rows)
from .mdetr_format import ConvertError

READING = ("VLMEvalKit's pred_bbox: first [a b c d] (else the first four numbers), fractions when "
           "all <= 1.5, 0-1000 when <= 1000, else pixels")
DEFAULT_EXPRESSION_REGEX = r"<ref>(.*?)</ref>"
_NUMBER = re.compile(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?")


def read_table(path: str) -> Iterator[Tuple[str, Dict[str, object]]]:
    """(where, row) for each row of a VLMEvalKit result file: .tsv, .xlsx (needs openpyxl) or
    .json (a list of records)."""
    low = path.lower()
    if low.endswith(".xlsx"):
        try:
            import openpyxl
        except ImportError:
            raise ConvertError(f"{path}: reading .xlsx needs openpyxl (pip install openpyxl), or "
                               f"rerun VLMEvalKit with PRED_FORMAT=tsv") from None
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = [str(h) if h is not None else "" for h in next(rows, [])]
        for n, values in enumerate(rows, 2):
            yield f"{path}: row {n}", dict(zip(header, values))
        return
    if low.endswith(".json"):
        with open(path, encoding="utf-8-sig") as f:
            data = parse_json(f.read(), path, list, "a JSON list of records")
        for i, r in enumerate(data):
            if not isinstance(r, dict):
                raise ConvertError(f"{path}: [{i}] is not a record")
            yield f"{path}: [{i}]", r
        return
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t")
        if not reader.fieldnames:
            raise ConvertError(f"{path}: empty file")
        for r in reader:
            yield f"{path}: line {reader.line_num}", r


def _num(v) -> Optional[float]:
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _numbers(text) -> Optional[List[float]]:
    if text is None:
        return None
    vals = [float(x) for x in _NUMBER.findall(str(text))[:4]]
    return vals if len(vals) == 4 else None


def _size(row: dict) -> Tuple[float, float]:
    w, h = _num(row.get("width")), _num(row.get("height"))
    return (w if w and w > 0 else 1.0, h if h and h > 0 else 1.0)


def ground_truth(row: dict, where: str) -> List[float]:
    """The row's ground-truth box as fractions of its image (see the module comment)."""
    norm = [_num(row.get(k)) for k in ("bbox_x1_norm", "bbox_y1_norm", "bbox_x2_norm",
                                        "bbox_y2_norm")]
    if all(v is not None for v in norm):
        return norm
    w, h = _size(row)
    px = [_num(row.get(k)) for k in ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2")]
    if all(v is not None for v in px):
        return [px[0] / w, px[1] / h, px[2] / w, px[3] / h]
    a = _numbers(row.get("answer"))
    if a is None:
        raise ConvertError(f"{where}: no ground-truth box (bbox_*_norm, bbox_x1.. or 'answer')")
    if max(abs(v) for v in a) <= 1.5:
        return a
    return [a[0] / w, a[1] / h, a[2] / w, a[3] / h]


def row_split(row: dict) -> Optional[str]:
    """`split`, else the split VLMEvalKit derives from `category` ("RefCOCO+ test-A" →
    "RefCOCO+_testA")."""
    s = row.get("split")
    if s not in (None, "") and not (isinstance(s, float) and math.isnan(s)):
        return str(s)
    c = row.get("category")
    if not isinstance(c, str) or not c.strip():
        return None
    parts = c.strip().split(None, 1)
    if len(parts) == 1:
        return parts[0]
    rest = re.sub(r"[\s_-]+", "", parts[1].lower())
    suffix = {"val": "val", "test": "test", "testa": "testA", "testb": "testB"}.get(rest)
    return f"{parts[0]}_{suffix or parts[1].replace(' ', '_').replace('-', '_')}"


def convert(result_path: str, dataset_path: str, out_path: str, *, split: Optional[str] = None,
            skip_unmatched: bool = False, tolerance: float = DEFAULT_BOX_TOLERANCE,
            expression_column: Optional[str] = None,
            expression_regex: str = DEFAULT_EXPRESSION_REGEX) -> ConvertSummary:
    index = RefexpIndex(dataset_path, tolerance)
    rx = re.compile(expression_regex, re.S)
    summary = ConvertSummary()
    rows: List[dict] = []
    seen_splits = set()
    for where, r in read_table(result_path):
        if "prediction" not in r:
            raise ConvertError(f"{where}: no 'prediction' column (columns: "
                               f"{', '.join(sorted(map(str, r)))}); is this a result file?")
        sp = row_split(r)
        seen_splits.add(sp)
        if split is not None and sp != split:
            continue
        if expression_column is not None:
            if expression_column not in r:
                raise ConvertError(f"{where}: no column {expression_column!r}")
            expression = r[expression_column]
        else:
            m = rx.search(str(r.get("question") or ""))
            expression = m.group(1) if m else None
        raw = r.get("prediction")
        raw = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw)
        e = match_or_skip(index, expression, ground_truth(r, where), where, skip_unmatched,
                          summary)
        if e is None:
            continue
        harness = None  # only the evaluation's _detail file has VLMEvalKit's reading
        pb = _numbers(r.get("pred_bbox"))
        if pb is not None:
            w, h = _size(r)
            harness = [pb[0] / w, pb[1] / h, pb[2] / w, pb[3] / h]
        extra = {"index": str(r.get("index"))}
        if sp is not None:
            extra["split"] = sp
        rows.append(harness_row(e, raw, harness, "VLMEvalKit", READING, extra,
                                no_box="VLMEvalKit decoded no box (empty pred_bbox)"
                                if "pred_bbox" in r else "no pred_bbox column: the result "
                                "file, not its _detail, so no VLMEvalKit reading"))
    if split is not None and not rows and not summary.skipped:
        raise ConvertError(f"{result_path}: no row of split {split!r} (splits: "
                           f"{', '.join(sorted(str(s) for s in seen_splits))})")
    summary.rows = len(rows)
    summary.by_text, summary.by_box = index.by_text, index.by_box
    write_rows(rows, out_path)
    return summary
