# SPDX-License-Identifier: Apache-2.0
"""Evaluation, paired comparison and the HTML report from Python.

evaluate() computes exactly what `groundeval evaluate` computes (the same C++ evaluator, so
Recall@k is bit-identical with MDETR's flickr_eval.py), from a predictions file or from Python
data; compare() the paired statistics of `groundeval compare`; report() writes the report of
`groundeval report` for run directories.
"""
import json
import os

from ._native import core
from .cli import run_cli

_STATUSES = ("ok", "empty", "format_failure", "error")


def _as_boxes(v):
    """A ranked box list from a list of 4-sequences or an (N, 4) array."""
    if hasattr(v, "tolist"):
        v = v.tolist()
    out = []
    for b in v:
        if len(b) != 4:
            raise ValueError(f"a box must have 4 coordinates (x1, y1, x2, y2), got {b!r}")
        out.append([float(c) for c in b])
    return out


def _key_parts(key):
    if isinstance(key, tuple) and len(key) == 3:
        return str(key[0]), int(key[1]), int(key[2])
    if hasattr(key, "image_id") and hasattr(key, "phrase_index"):  # a Query
        return key.image_id, int(key.sentence_id), int(key.phrase_index)
    parts = str(key).rsplit("/", 2)
    if len(parts) != 3:
        raise ValueError(f"prediction key {key!r}: expected a Query, (image_id, sentence_id, "
                         "phrase_index) or 'image_id/sentence_id/phrase_index'")
    return parts[0], int(parts[1]), int(parts[2])


def _records_from_mapping(preds):
    records = []
    for key, value in preds.items():
        image_id, sentence_id, phrase_index = _key_parts(key)
        if isinstance(value, dict):
            records.append(_record(dict(value, image_id=image_id, sentence_id=sentence_id,
                                        phrase_index=phrase_index)))
        else:
            boxes = _as_boxes(value)
            records.append((image_id, sentence_id, phrase_index, "", boxes, [],
                            "ok" if boxes else "empty", -1.0))
    return records


def _record(row):
    boxes = _as_boxes(row.get("boxes", []))
    scores = row.get("scores")
    scores = [] if scores is None else [float(s) for s in (
        scores.tolist() if hasattr(scores, "tolist") else scores)]
    status = row.get("status") or ("ok" if boxes else "empty")
    latency = row.get("latency_s")
    return (str(row["image_id"]), int(row["sentence_id"]), int(row["phrase_index"]),
            str(row.get("chain_id") or ""), boxes, scores, status,
            -1.0 if latency is None else float(latency))


def _sentence(row):
    # MDETR's layout: one ranked list per evaluable phrase of the sentence.
    return (str(row["image_id"]), str(row["sentence_id"]),
            [_as_boxes(lst) for lst in row["boxes"]])


def evaluate(dataset, predictions, protocol="any", iou=0.5, missing_as_miss=False,
             invalid_as_miss=False, allow_non_finite=False):
    """Evaluates `predictions` on `dataset` (a :class:`groundeval.Dataset`).

    predictions is one of:
    * a path to a predictions file: MDETR's JSON list or groundeval's JSON Lines (streamed in
      bounded memory), exactly as `groundeval evaluate --predictions FILE`; a run directory (or
      the :class:`groundeval.RunResult` of :func:`groundeval.run`) means its predictions.jsonl;
    * a dict mapping a query (a :class:`groundeval.Query`, a tuple (image_id, sentence_id,
      phrase_index) or the query key "image_id/sentence_id/phrase_index") to its ranked boxes
      ((N, 4) array or list of [x1, y1, x2, y2], best first), or to a dict like a JSON Lines row;
    * a list of rows like the JSON Lines records ({"image_id", "sentence_id", "phrase_index",
      "boxes", optional "scores", "status", "chain_id", "latency_s"}) or like MDETR's entries
      ({"image_id", "sentence_id", "boxes": one ranked list per evaluable phrase}).
    protocol: "any" (ANY-box) or "merged" (MERGED-box); iou: the hit threshold (IoU >= iou);
    missing_as_miss / invalid_as_miss / allow_non_finite: the CLI options of the same names.
    Returns an :class:`EvaluationResult`.
    """
    c = core()
    if isinstance(predictions, (str, os.PathLike)):
        source = os.fspath(predictions)
        if os.path.isdir(source):  # a run directory (groundeval run, groundeval.run, replay)
            source = os.path.join(source, "predictions.jsonl")
        h = c.evaluate_file(dataset._h, source, protocol, float(iou), bool(missing_as_miss),
                            bool(invalid_as_miss), bool(allow_non_finite))
        return EvaluationResult(h, dataset, source)
    records, sentences = [], []
    if isinstance(predictions, dict):
        records = _records_from_mapping(predictions)
    else:
        for row in predictions:
            if "phrase_index" in row:
                records.append(_record(row))
            else:
                sentences.append(_sentence(row))
    source = "predictions (Python data)"
    h = c.evaluate_data(dataset._h, records, sentences, source, protocol, float(iou),
                        bool(missing_as_miss), bool(invalid_as_miss))
    return EvaluationResult(h, dataset, source)


class EvaluationResult:
    """The result of :func:`evaluate`: the numbers of `groundeval evaluate --json`."""

    def __init__(self, handle, dataset, source):
        self._h = handle
        self.dataset = dataset
        self.source = source
        self._dict = None

    def _meta(self):
        return [("dataset", self.dataset.spec), ("split", self.dataset.split)]

    def to_dict(self):
        """The JSON report as a dict (docs/metrics.md): recall_at {"1", "5", "10", "upper_bound"}
        -> {category: fraction}, counts, localization, answers, latency, warnings; identical to
        what `groundeval evaluate --json` writes for the same data set and predictions."""
        if self._dict is None:
            self._dict = json.loads(self._h.json(self._meta()))
        return self._dict

    @property
    def recall(self):
        """{"1": {category: recall}, "5": ..., "10": ..., "upper_bound": ...} as floats in [0, 1]
        (to_dict() keeps the JSON's numbers, where a whole fraction such as 1 reads as an int)."""
        return {k: {c: float(v) for c, v in cats.items()}
                for k, cats in self.to_dict()["recall_at"].items()}

    def __str__(self):
        """The readable table `groundeval evaluate` prints."""
        return self._h.table(self._meta())

    def __repr__(self):
        r = self.recall
        return (f"<groundeval.EvaluationResult R@1={r['1']['all']:.4f} R@5={r['5']['all']:.4f} "
                f"R@10={r['10']['all']:.4f} phrases={self.to_dict()['phrases']}>")

    def to_dataframe(self):
        """Recall@k per category as a pandas DataFrame (one row per category, "all" first);
        needs pandas."""
        import pandas as pd  # noqa: PLC0415 (optional dependency)
        r = self.to_dict()["recall_at"]
        cats = ["all"] + sorted(c for c in r["1"] if c != "all")
        rows = {c: {f"R@{k}" if k != "upper_bound" else "upper_bound": r[k].get(c)
                    for k in ("1", "5", "10", "upper_bound")} for c in cats}
        return pd.DataFrame.from_dict(rows, orient="index")

    def outcomes(self):
        """Per evaluated phrase, in data set order: a list of dicts with image_id, sentence_id,
        phrase_index, key, hits (one bool per k: 1, 5, 10, upper bound), top1_iou, status and
        source (given / missing / invalid). With pandas, pd.DataFrame(result.outcomes())."""
        samples = self.dataset.samples()
        si, pi, mask, iou, status, source = self._h.outcomes()
        ks = list(self._h.ks)
        out = []
        for s, p, m, v, st, src in zip(si, pi, mask, iou, status, source):
            smp = samples[s]
            row = {"image_id": smp.image_id, "sentence_id": smp.sentence_id, "phrase_index": p,
                   "key": f"{smp.image_id}/{smp.sentence_id}/{p}"}
            for i, k in enumerate(ks):
                row["hit_upper_bound" if k < 0 else f"hit@{k}"] = bool(m >> i & 1)
            row.update(top1_iou=v, status=st, source=src)
            out.append(row)
        return out


class Comparison:
    """The result of :func:`compare`: the numbers of `groundeval compare --json`."""

    def __init__(self, json_text, table):
        self._json = json_text
        self._table = table

    def to_dict(self):
        """McNemar's test on R@1, bootstrap intervals per k, per-type deltas, cases."""
        return json.loads(self._json)

    def __str__(self):
        return self._table


def compare(a, b, names=("a", "b"), seed=20240601, bootstrap=1000, cases=5):
    """Paired comparison of two :class:`EvaluationResult` of the same data set object and options
    (as `groundeval compare`): McNemar's exact test on Recall@1 hits, image-level bootstrap
    intervals of each Recall@k and of the difference, per-type deltas, qualitative cases."""
    if a.dataset is not b.dataset:
        raise ValueError("compare: both results must come from the same Dataset object")
    meta = a._meta() + [("protocol", a.to_dict()["protocol"])]
    js, table = core().compare(a._h, b._h, names[0], names[1], int(seed), int(bootstrap),
                               int(cases), meta)
    return Comparison(js, table)


def write_jsonl(f, predictions):
    """Writes predictions given as Python data (a dict or rows, as evaluate() takes them) to the
    open text file `f` as groundeval JSON Lines."""
    if isinstance(predictions, dict):
        records = _records_from_mapping(predictions)
    else:
        records = [_record(r) for r in predictions]
    for image_id, sid, pi, chain, boxes, scores, status, latency in records:
        if status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}, not {status!r}")
        row = {"image_id": image_id, "sentence_id": sid, "phrase_index": pi, "boxes": boxes,
               "status": status}
        if chain:
            row["chain_id"] = chain
        if scores:
            row["scores"] = scores
        if latency >= 0:
            row["latency_s"] = latency
        f.write(json.dumps(row) + "\n")


def report(runs, out, dataset=None, title=None, notes=(), protocol="any", iou=0.5,
           missing_as_miss=False, blank_canvas=False):
    """Writes the HTML / Markdown / JSON report of `groundeval report` for the run directories
    `runs` (made by `groundeval run`, :func:`groundeval.run` or :func:`groundeval.replay`) into `out`; returns the path of
    index.html. dataset: evaluate every run on this data set's spec and split instead of the ones
    their manifests name (a sample is taken from the manifests, not from `dataset`)."""
    args = ["report", *[os.fspath(r) for r in runs], "--out", os.fspath(out),
            "--protocol", protocol, "--iou", repr(float(iou)), "--quiet"]
    if dataset is not None:
        args += ["--dataset", dataset.spec]
        if dataset.spec.startswith("flickr30k:"):
            args += ["--split", dataset.split]
    if title:
        args += ["--title", title]
    for n in notes:
        args += ["--note", n]
    if missing_as_miss:
        args.append("--missing-as-miss")
    if blank_canvas:
        args.append("--blank-canvas")
    run_cli(*args)
    return os.path.join(os.fspath(out), "index.html")
