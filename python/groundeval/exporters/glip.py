# SPDX-License-Identifier: Apache-2.0
"""GLIP → groundeval JSON Lines predictions.

GLIP scores phrases inside its model (ATSS head, sigmoid, mean over the phrase's tokens,
centerness, NMS), so its native output is already a ranked box list per phrase. Its Flickr
evaluation builds them in ``maskrcnn_benchmark/engine/inference.py``: ``flickr_post_process``
resizes the BoxList to the original image, sorts by score, groups the boxes by label (label -
``plus`` = index among the sentence's *evaluable* phrases, in sentence order) and appends
[0, 0, 0, 0] to every list; ``inference()`` then hands the dicts
``{"image_id", "sentence_id", "boxes", "scores"}`` to the evaluator. Patch point: collect those
dicts (e.g. ``json.dump`` them to a file right after ``flickr_post_process`` returns). Then

* ``groundeval evaluate --predictions FILE`` reads that list as is (MDETR's layout), or
* ``from_flickr_predictions()`` turns it into JSON Lines keyed by ``groundeval queries`` (scores
  kept, one record per query), for ``run --grounder predictions:FILE``, ``compare`` and
  ``report``;
* ``from_boxlist()`` does the same from GLIP's raw BoxList output (bbox, scores, labels) when
  you run the model yourself, applying ``flickr_post_process``'s rules.
"""
from __future__ import annotations

import json
from typing import Dict, Iterable, List, Tuple

from .dumps import PredictionsWriter, _array
from .queries import ExportError, Query, SentenceQueries, by_sentence

ZERO_BOX = [0.0, 0.0, 0.0, 0.0]


def _write_lists(group: SentenceQueries, boxes: List[list], scores: List[list],
                 writer: PredictionsWriter, where: str):
    if len(boxes) != len(group.queries):
        raise ExportError(f"{where}: {len(boxes)} phrase lists for image {group.image_id} "
                          f"sentence {group.sentence_id}, which has {len(group.queries)} "
                          f"evaluable phrases in the queries (queries made with --sample-by "
                          f"phrase cannot take GLIP's per-sentence lists)")
    for q, b, s in zip(group.queries, boxes, scores):
        s = list(s) + [None] * (len(b) - len(s))  # the appended [0,0,0,0] has no score
        writer.write(q, b, s, geometry={"source": "glip flickr_post_process"})


def from_flickr_predictions(predictions, queries: Iterable[Query], out_path: str) -> str:
    """`predictions`: the list of dicts GLIP's ``flickr_post_process`` returns (or the path of a
    JSON file holding it). Writes one JSON line per query; a sentence of the queries without a
    prediction, or with the wrong number of lists, is an ExportError naming it."""
    if isinstance(predictions, str):
        with open(predictions, encoding="utf-8") as f:
            predictions = json.load(f)
    index: Dict[Tuple[str, int], dict] = {}
    for i, p in enumerate(predictions):
        index.setdefault((str(p["image_id"]), int(p["sentence_id"])), dict(p, _item=i))
    with PredictionsWriter(out_path) as w:
        for g in by_sentence(queries):
            p = index.get(g.key)
            if p is None:
                raise ExportError(f"no GLIP prediction for image {g.image_id} sentence "
                                  f"{g.sentence_id}")
            _write_lists(g, p["boxes"], p.get("scores", [[] for _ in p["boxes"]]), w,
                         f"GLIP prediction {p['_item']}")
    return out_path


def boxlist_lists(bbox, scores, labels, input_size: Tuple[int, int],
                  image_size: Tuple[int, int], n_phrases: int, plus: int = 1):
    """``flickr_post_process`` on plain tensors: xyxy `bbox` in pixels of the network input
    `input_size` (w, h) scaled to `image_size` (w, h) as BoxList.resize does, sorted by score
    (descending), grouped by ``label - plus``, [0, 0, 0, 0] appended. Returns (boxes, scores)."""
    import numpy as np

    b = _array(bbox, np.float32).reshape(-1, 4)
    s = _array(scores, np.float32).reshape(-1)
    lab = _array(labels, np.int64).reshape(-1)
    rw = np.float32(image_size[0]) / np.float32(input_size[0])
    rh = np.float32(image_size[1]) / np.float32(input_size[1])
    b = b * np.array([rw, rh, rw, rh], dtype=np.float32)
    order = np.argsort(-s, kind="stable")
    out_b: List[list] = [[] for _ in range(n_phrases)]
    out_s: List[list] = [[] for _ in range(n_phrases)]
    for i in order:
        k = int(lab[i]) - plus
        if not 0 <= k < n_phrases:
            raise ExportError(f"label {int(lab[i])} is outside the {n_phrases} phrases "
                              f"(plus = {plus})")
        out_b[k].append([float(v) for v in b[i]])
        out_s[k].append(float(s[i]))
    for lst in out_b:
        lst.append(list(ZERO_BOX))
    return out_b, out_s


def from_boxlist(group: SentenceQueries, bbox, scores, labels, input_size: Tuple[int, int],
                 writer: PredictionsWriter, plus: int = 1):
    """Writes the queries of one caption from GLIP's raw BoxList fields (see boxlist_lists)."""
    b, s = boxlist_lists(bbox, scores, labels, input_size, group.image_size, len(group.queries),
                         plus)
    _write_lists(group, b, s, writer, "GLIP output")
