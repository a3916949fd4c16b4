# SPDX-License-Identifier: Apache-2.0
"""lmms-eval sample logs of the RefCOCO ``refcoco*_bbox_rec_*`` tasks → groundeval predictions
JSON Lines carrying the model's raw answers (rescored with ``groundeval evaluate --family F``).

What lmms-eval writes, and what is read here (EvolvingLMMs-Lab/lmms-eval @75571cf):

* ``--log_samples`` writes ``<output>/<model>/<date>_samples_<task>.jsonl``, one sample per line
  (``lmms_eval/loggers/evaluation_tracker.py`` ``save_results_samples``; before 2024-09 one
  ``<task>.json`` holding ``{"args", "model_configs", "logs": [samples], "time"}``, also read).
* A sample (``lmms_eval/evaluator.py``): ``doc_id``, ``target``, ``filtered_resps`` (the answer
  after the task's filters; a one-element list is flattened to its element since lmms-eval 0.4),
  ``resps`` (dropped when equal to ``filtered_resps``), ``input`` (the prompt), ``doc_hash``,
  and one member per metric. Since 0.4 (2025-07) the ``doc`` itself is not written; before, it
  was (without the image): ``question_id``, ``answer`` (the expression), ``bbox``,
  ``image_width``, ``image_height``, ``file_name``...
* The bbox_rec tasks (``lmms_eval/tasks/refcoco*/utils_rec.py``) explode the data set to one doc
  per referring expression and replace ``bbox`` (COCO x, y, w, h pixels) by x1, y1, x2, y2
  divided by the original image's width and height. ``process_results`` returns, under every
  metric name (``refcoco_IoU``, ``refcoco_ACC@0.5``, ..., ``refcoco_Center_ACC``; the same
  names in the refcoco+ and refcocog folders), the same dict ``{"answer": expression,
  "pred": [4 numbers], "ann_id": question_id, "bbox": normalized ground truth}``; ``pred`` is
  the first ``[a, b, c, d]`` of the answer read as fractions of the original image
  (``[0, 0, 0, 0]`` when there is none) — lmms-eval's own reading, kept here as the row's boxes
  and marked so.

The raw answer is ``filtered_resps`` (its first string when it is a list), else ``resps``. Whether
a task's filter changed the text is not visible in the log: the bbox_rec tasks use none, so there
the two are the model's text. UNVERIFIED beyond these tasks: other tasks that log the same
dict shape are read the same way; ``--metric-key`` names the member to read when several differ.
The ``refcoco_grounding*`` tasks (PR #1373: one prompt with every expression of an object, boxes
in pixels, the better of the raw and the /1000 reading kept) are refused with that reason.
"""
from __future__ import annotations

import json
from typing import Iterator, List, Optional, Tuple

from .harness import (DEFAULT_BOX_TOLERANCE, ConvertSummary, RefexpIndex, harness_row,
                      match_or_skip, parse_json, write_rows)
from .mdetr_format import ConvertError

READING = "first [a, b, c, d] as fractions of the original image, [0, 0, 0, 0] when none"


def read_samples(path: str) -> Iterator[Tuple[str, dict]]:
    """(where, sample) for each sample of a JSON Lines log or of an old ``{"logs": [...]}``."""
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict) and isinstance(whole.get("logs"), list):
            for i, s in enumerate(whole["logs"]):
                yield f"{path}: logs[{i}]", s
            return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        yield f"{path}:{n}", parse_json(line, f"{path}:{n}", dict,
                                        "a JSON object (an lmms-eval sample)")


def _first_text(v) -> Optional[str]:
    while isinstance(v, list) and v:
        v = v[0]
    return v if isinstance(v, str) else None


def _rec_dict(sample: dict, metric_key: Optional[str], where: str) -> Optional[dict]:
    if metric_key is not None:
        d = sample.get(metric_key)
        if not isinstance(d, dict):
            raise ConvertError(f"{where}: no dict under {metric_key!r} "
                               f"(members: {', '.join(sorted(sample))})")
        return d
    for k in sorted(sample):
        d = sample[k]
        if isinstance(d, dict) and "pred" in d and "bbox" in d:
            return d
    return None


def convert(log_path: str, dataset_path: str, out_path: str, *, skip_unmatched: bool = False,
            tolerance: float = DEFAULT_BOX_TOLERANCE, metric_key: Optional[str] = None
            ) -> ConvertSummary:
    index = RefexpIndex(dataset_path, tolerance)
    summary = ConvertSummary()
    rows: List[dict] = []
    for where, s in read_samples(log_path):
        doc = s.get("doc") if isinstance(s.get("doc"), dict) else {}
        rec = _rec_dict(s, metric_key, where) or {}
        raw = _first_text(s.get("filtered_resps"))
        if raw is None:
            raw = _first_text(s.get("resps"))
        if raw is None:
            raise ConvertError(f"{where}: no model answer (filtered_resps / resps)")
        if "pred_boxes" in rec or isinstance(rec.get("answer"), list):
            raise ConvertError(f"{where}: a refcoco_grounding* sample (every expression of an "
                               "object in one prompt, boxes in pixels, the better of two readings "
                               "kept): not supported; convert a refcoco*_bbox_rec_* log")
        expression = rec.get("answer", doc.get("answer"))
        gt = rec.get("bbox", doc.get("bbox"))
        if gt is None:
            raise ConvertError(f"{where}: no ground-truth box (a bbox_rec metric dict or "
                               f"'doc' with 'bbox'); is this a refcoco*_bbox_rec_* log?")
        e = match_or_skip(index, expression, gt, where, skip_unmatched, summary)
        if e is None:
            continue
        extra = {"doc_id": s.get("doc_id")}
        qid = rec.get("ann_id", doc.get("question_id"))
        if qid is not None:
            extra["question_id"] = qid
        rows.append(harness_row(e, raw, rec.get("pred"), "lmms-eval", READING, extra))
    summary.rows = len(rows)
    summary.by_text, summary.by_box = index.by_text, index.by_box
    write_rows(rows, out_path)
    return summary
