# SPDX-License-Identifier: Apache-2.0
"""Writing what groundeval replays: npy-detector dumps with a version-2 manifest, and JSON Lines
predictions. Needs numpy (not torch)."""
from __future__ import annotations

import json
import math
import os
import re
from typing import Optional, Sequence, Tuple

import numpy as np

from .captions import MappedCaption, utf8_offsets
from .queries import ExportError, Query, SentenceQueries

MANIFEST_HEADER = "# groundeval npy-detector manifest 2"


def _bytes(s: str) -> np.ndarray:
    return np.frombuffer(s.encode("utf-8"), dtype=np.uint8)


def _array(x, dtype) -> np.ndarray:
    """A torch tensor or array-like as a contiguous numpy array (detached, on the CPU)."""
    if hasattr(x, "detach"):
        x = x.detach().to("cpu")
        if str(x.dtype) in ("torch.bfloat16", "torch.float16"):
            x = x.float()
        x = x.numpy()
    return np.ascontiguousarray(np.asarray(x, dtype=dtype))


class _TextFileWriter:
    """A text file written line by line; a context manager that closes it."""

    def __init__(self, path: str):
        self._f = open(path, "w", encoding="utf-8")
        self.written = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if not self._f.closed:
            self._f.close()


class DumpWriter(_TextFileWriter):
    """Writes one ``.npz`` per caption into `out_dir` and the manifest ``manifest.txt`` that
    ``--grounder npy-detector:OUT_DIR/manifest.txt?preset=...`` reads. Use as a context manager
    (or call close())."""

    def __init__(self, out_dir: str, manifest_name: str = "manifest.txt"):
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.manifest_path = os.path.join(out_dir, manifest_name)
        super().__init__(self.manifest_path)
        self._f.write(MANIFEST_HEADER + "\n")
        self._keys = set()

    def write(self, group: SentenceQueries, caption: MappedCaption,
              token_offsets: Sequence[Tuple[int, int]], pred_logits, pred_boxes, *,
              token_limit: Optional[int] = None, centerness=None,
              input_size: Optional[Tuple[int, int]] = None) -> str:
        """Writes the dump of one caption; returns its path.

        `caption` is the text the model read with one span per query of `group` (same order);
        `token_offsets` the tokenizer's code-point offsets into caption.text for the tokens the
        model saw (after truncation at `token_limit`), specials (0, 0); `pred_logits` [Q, T]
        and `pred_boxes` [Q, 4] (a leading batch axis of 1 is dropped).
        """
        iid, sid = group.image_id, group.sentence_id
        if any(c in iid for c in "\t\r\n"):
            raise ExportError(f"image id {iid!r} holds a tab or newline; it cannot be keyed")
        if (iid, sid) in self._keys:
            raise ExportError(f"a second dump for image {iid} sentence {sid}")
        if len(caption.spans) != len(group.queries):
            raise ExportError(f"image {iid} sentence {sid}: {len(caption.spans)} spans for "
                              f"{len(group.queries)} queries")
        logits = _array(pred_logits, np.float32)
        boxes = _array(pred_boxes, np.float32)
        if logits.ndim == 3 and logits.shape[0] == 1:
            logits = logits[0]
        if boxes.ndim == 3 and boxes.shape[0] == 1:
            boxes = boxes[0]
        if logits.ndim != 2 or boxes.ndim != 2 or boxes.shape != (logits.shape[0], 4):
            raise ExportError(f"image {iid} sentence {sid}: expected pred_logits [Q, T] and "
                              f"pred_boxes [Q, 4], got {logits.shape} and {boxes.shape}")
        offsets = [(int(b), int(e)) for b, e in token_offsets]
        if len(offsets) > logits.shape[1]:
            raise ExportError(f"image {iid} sentence {sid}: {len(offsets)} tokens but "
                              f"{logits.shape[1]} logit slots (truncate at the model's limit)")
        arrays = dict(
            pred_logits=logits, pred_boxes=boxes,
            token_offsets=np.array(utf8_offsets(caption.text, offsets), dtype=np.int64).reshape(-1, 2),
            caption=_bytes(caption.text), image_id=_bytes(iid),
            sentence_id=np.array([sid], dtype=np.int64), source_caption=_bytes(group.sentence),
            phrase_index=np.array([q.phrase_index for q in group.queries], dtype=np.int64),
            phrase_spans=np.array(utf8_offsets(caption.text, caption.spans),
                                  dtype=np.int64).reshape(-1, 2),
            caption_mapping=_bytes(caption.mapping))
        if token_limit is not None:
            arrays["token_limit"] = np.array([token_limit], dtype=np.int64)
        if centerness is not None:
            arrays["centerness"] = _array(centerness, np.float32).reshape(-1)
        if input_size is not None:
            arrays["input_size"] = np.array(input_size, dtype=np.int64)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", iid) + f"_{sid}.npz"
        path = os.path.join(self.out_dir, name)
        if os.path.exists(path) and (iid, sid) not in self._keys:
            name = f"{len(self._keys)}_{name}"  # two ids that sanitize alike
            path = os.path.join(self.out_dir, name)
        np.savez(path, **arrays)  # stored, not compressed: groundeval reads stored entries
        self._f.write(f"{iid}\t{sid}\t{name}\n")
        self._f.flush()
        self._keys.add((iid, sid))
        self.written += 1
        return path


class PredictionsWriter(_TextFileWriter):
    """Writes groundeval JSON Lines predictions, one line per query (docs/metrics.md), for
    ``groundeval evaluate --predictions`` or ``run --grounder predictions:FILE``."""

    def __init__(self, path: str):
        self.path = path
        super().__init__(path)

    def write(self, q: Query, boxes, scores=None, *, raw_text: str = "",
              geometry: Optional[dict] = None, status: Optional[str] = None):
        """`boxes` ranked best first, [x1, y1, x2, y2] in original-image pixels; `scores` one per
        box (None entries are written as null: no score)."""
        b = [[float(v) for v in box] for box in (_array(boxes, np.float64).reshape(-1, 4)
                                                 if len(boxes) else [])]
        rec = {"image_id": q.image_id, "sentence_id": q.sentence_id,
               "phrase_index": q.phrase_index, "chain_id": q.chain_id, "phrase": q.phrase,
               "boxes": b, "status": status or ("ok" if b else "empty")}
        if scores is not None:
            s = [None if v is None or not math.isfinite(float(v)) else float(v) for v in scores]
            if len(s) != len(b):
                raise ExportError(f"query {q.key}: {len(s)} scores for {len(b)} boxes")
            rec["scores"] = s
        if raw_text:
            rec["raw_text"] = raw_text
        if geometry:
            rec["geometry"] = geometry
        self._f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.written += 1
