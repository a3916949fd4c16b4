# SPDX-License-Identifier: Apache-2.0
"""Helpers of the exporter tests (the `dataset` fixture is in conftest.py).

Everything here is GENERATED: a small Flickr30k-Entities-format data set from
scripts/generate_flickr30k.py (made-up ids, phrases and boxes; captions then given capitals, a
non-ASCII word and missing final periods so the caption mappings matter), noise JPEG images of
the annotated sizes, and the queries `groundeval queries` writes for it. The models built by the
tests are randomly initialised: their outputs are not any trained model's.
"""
import json
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))

try:  # the installed package, else the source tree's python/ folder
    import groundeval.exporters  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(REPO, "python"))


def groundeval_binary():
    """The groundeval CLI: $GROUNDEVAL_CLI, else the build tree's. A missing binary fails the
    test (it is never a skip: these tests must run in CI)."""
    path = os.environ.get("GROUNDEVAL_CLI") or os.path.join(REPO, "build", "bin", "groundeval")
    if not os.access(path, os.X_OK):
        pytest.fail(f"groundeval CLI not found at {path}: build it first (cmake --build build "
                    f"--target groundeval_cli) or set GROUNDEVAL_CLI")
    return path


def ge(*args, check=True):
    p = subprocess.run([groundeval_binary(), *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"groundeval {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    return p


def words_of(rows):
    """The lower-cased words and punctuation of the captions (for test vocabularies)."""
    out = set()
    for r in rows:
        out.update(re.findall(r"\w+|[^\w\s]", r["sentence"].lower()))
    return sorted(out)


def run_replay(dataset, grounder, out_dir, check=True):
    """`groundeval run` with `grounder`; returns (process, {key: record})."""
    d, split, _, _ = dataset
    p = ge("run", "--dataset", f"flickr30k:{d}", "--split", split, "--grounder", grounder,
           "--out", str(out_dir), "--quiet", "--start-over", check=check)
    recs = {}
    pred = os.path.join(str(out_dir), "predictions.jsonl")
    if p.returncode == 0:
        for line in open(pred, encoding="utf-8"):
            r = json.loads(line)
            recs[f"{r['image_id']}/{r['sentence_id']}/{r['phrase_index']}"] = r
    return p, recs


def match_lists(got_boxes, got_scores, ref_boxes, ref_scores, score_tol, box_tol, what):
    """Same ranked (box, score) lists up to the tolerances: scores compared in rank order,
    boxes matched within near-tied scores (an order both sides may break differently)."""
    assert len(got_boxes) == len(ref_boxes), f"{what}: {len(got_boxes)} boxes, want {len(ref_boxes)}"
    for k, (gs, rs) in enumerate(zip(got_scores, ref_scores)):
        assert abs(gs - rs) <= score_tol, f"{what}: score {k} is {gs}, want {rs}"
    used = set()
    for k, (gb, gs) in enumerate(zip(got_boxes, got_scores)):
        cand = [j for j, (rb, rs) in enumerate(zip(ref_boxes, ref_scores))
                if j not in used and abs(rs - gs) <= score_tol
                and max(abs(a - b) for a, b in zip(gb, rb)) <= box_tol]
        assert cand, f"{what}: box {k} {gb} (score {gs}) is not in the reference"
        used.add(cand[0])
