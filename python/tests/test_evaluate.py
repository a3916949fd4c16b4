# SPDX-License-Identifier: Apache-2.0
"""Data sets, evaluation and comparison from Python equal the command-line tool's JSON on a
generated (SYNTHETIC) data set, for the ANY-box and MERGED-box protocols and both predictions
layouts, whether the predictions come from a file or from Python data."""
import json

import pytest

import groundeval
from cli_support import cli_json, run_cli


def strip_meta(d):
    """The numbers only: without the names of the data set and the predictions source, and
    without the warnings' example messages (they name a file line or a record number)."""
    out = {k: v for k, v in d.items() if k not in ("dataset", "split", "predictions")}
    out["warnings"] = {k: v for k, v in d["warnings"].items() if k != "examples"}
    return out


@pytest.fixture(scope="module")
def ds(generated):
    return groundeval.open_flickr30k(generated["root"], split="test")


@pytest.mark.parametrize("protocol", ["any", "merged"])
@pytest.mark.parametrize("fmt", ["mdetr", "jsonl"])
def test_evaluate_file_equals_cli_json(ds, generated, protocol, fmt):
    path = generated["predictions"][(fmt, 0)]
    cli = cli_json("evaluate", "--dataset", generated["spec"], "--split", "test",
                   "--predictions", path, "--protocol", protocol, "--quiet")
    res = groundeval.evaluate(ds, path, protocol=protocol)
    py = res.to_dict()
    assert py == cli  # every number, count and warning, and the same meta keys
    assert py["protocol"] == protocol and py["phrases"] > 100
    assert "R@1" in str(res)


@pytest.mark.parametrize("protocol", ["any", "merged"])
def test_evaluate_python_data_equals_file(ds, generated, protocol):
    path = generated["predictions"][("jsonl", 0)]
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    want = strip_meta(groundeval.evaluate(ds, path, protocol=protocol).to_dict())
    # rows like the JSON Lines records
    got = strip_meta(groundeval.evaluate(ds, rows, protocol=protocol).to_dict())
    assert got == want
    # a dict of query key -> ranked boxes (the scores only fix the order, which is kept)
    # (the file holds duplicate records on purpose: the first one wins, as in the file route)
    by_key = {}
    for r in rows:
        by_key.setdefault(f"{r['image_id']}/{r['sentence_id']}/{r['phrase_index']}", r["boxes"])
    got = strip_meta(groundeval.evaluate(ds, by_key, protocol=protocol).to_dict())
    for k in ("recall_at", "counts", "phrases", "sentences", "images", "localization"):
        assert got[k] == want[k], k
    # MDETR's layout as Python data
    mdetr_path = generated["predictions"][("mdetr", 0)]
    with open(mdetr_path, encoding="utf-8") as f:
        entries = json.load(f)
    got = groundeval.evaluate(ds, entries, protocol=protocol).to_dict()
    want = groundeval.evaluate(ds, mdetr_path, protocol=protocol).to_dict()
    assert strip_meta(got) == strip_meta(want)


def test_evaluate_options_and_errors(ds, generated):
    path = generated["predictions"][("mdetr", 0)]
    cli = cli_json("evaluate", "--dataset", generated["spec"], "--predictions", path,
                   "--iou", "0.7", "--quiet")
    assert groundeval.evaluate(ds, path, iou=0.7).to_dict() == cli
    with pytest.raises(groundeval.Error, match="protocol"):
        groundeval.evaluate(ds, path, protocol="all")
    q = ds.queries()
    partial = {q[0]: [[0, 0, 10, 10]]}
    with pytest.raises(groundeval.Error, match="missing predictions"):
        groundeval.evaluate(ds, partial)
    r = groundeval.evaluate(ds, partial, missing_as_miss=True).to_dict()
    assert r["warnings"]["missing_phrases"] == len(q) - 1


def test_dataframes_and_outcomes(ds, generated):
    pd = pytest.importorskip("pandas")  # pinned in requirements-test.txt: runs in CI
    res = groundeval.evaluate(ds, generated["predictions"][("mdetr", 0)])
    df = res.to_dataframe()
    assert list(df.columns) == ["R@1", "R@5", "R@10", "upper_bound"]
    assert df.index[0] == "all" and df.loc["all", "R@1"] == res.recall["1"]["all"]
    rows = pd.DataFrame(res.outcomes())
    assert len(rows) == res.to_dict()["phrases"]
    assert rows["hit@1"].mean() == pytest.approx(res.recall["1"]["all"], abs=1e-15)
    assert rows["hit_upper_bound"].mean() == pytest.approx(res.recall["upper_bound"]["all"],
                                                           abs=1e-15)


def test_compare_equals_cli(ds, generated):
    a, b = generated["predictions"][("mdetr", 0)], generated["predictions"][("mdetr", 1)]
    cli = cli_json("compare", a, b, "--dataset", generated["spec"], "--split", "test")
    ra, rb = groundeval.evaluate(ds, a), groundeval.evaluate(ds, b)
    py = groundeval.compare(ra, rb, names=(a, b)).to_dict()
    assert py == cli
    assert "McNemar" in str(groundeval.compare(ra, rb)) or "mcnemar" in str(
        groundeval.compare(ra, rb)).lower()


def test_stats_and_queries_equal_cli(ds, generated):
    cli = json.loads(run_cli("stats", "--dataset", generated["spec"], "--split", "test",
                             "--json", "-"))
    assert ds.stats() == cli
    qs = ds.queries()
    assert len(qs) == cli["evaluable_phrases"]
    q = qs[0]
    assert q.sentence[q.span[0]:q.span[1]].split() == q.phrase.split()
    assert q.key == f"{q.image_id}/{q.sentence_id}/{q.phrase_index}" and q.boxes


@pytest.mark.parametrize("by", ["image", "phrase"])
def test_sample_equals_cli(generated, by):
    ds = groundeval.open_flickr30k(generated["root"], split="test", sample=5, sample_by=by,
                                   seed=3)
    cli = json.loads(run_cli("stats", "--dataset", generated["spec"], "--split", "test",
                             "--sample", "5", "--sample-by", by, "--seed", "3", "--json", "-"))
    assert ds.stats() == cli
    assert ds.stats()["sample"] == f"{'images' if by == 'image' else 'phrases'}=5 seed=3"


def test_ids_and_mdetr(generated, tmp_path):
    ds = groundeval.open_flickr30k(generated["root"], split="test")
    ids = sorted({s.image_id for s in ds.samples()})[:3]
    sub = groundeval.open_flickr30k(generated["root"], ids=ids)
    assert {s.image_id for s in sub.samples()} == set(ids)
    # The same data in MDETR's format (tests/datasets/flickr30k_to_mdetr.py writes it).
    import os
    import subprocess
    import sys
    from cli_support import ROOT
    out = tmp_path / "final_flickr_separateGT_test.json"
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "datasets", "flickr30k_to_mdetr.py"),
                    generated["root"], "test", str(out)], check=True, capture_output=True)
    md = groundeval.open_mdetr(out)
    cli = json.loads(run_cli("stats", "--dataset", f"mdetr:{out}", "--json", "-"))
    assert md.stats() == cli


def test_lenient_problems(tmp_path, generated):
    import shutil
    root = tmp_path / "broken"
    shutil.copytree(generated["root"], root)
    victim = sorted((root / "Annotations").iterdir())[0]
    victim.write_text("<annotation><size><width>oops", encoding="utf-8")
    with pytest.raises(groundeval.Error, match=victim.name):
        groundeval.open_flickr30k(root, split="all")
    ds = groundeval.open_flickr30k(root, split="all", lenient=True)
    assert any(victim.name in p for p in ds.problems)
