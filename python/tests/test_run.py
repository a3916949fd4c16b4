# SPDX-License-Identifier: Apache-2.0
"""Python grounders through the C++ runner (groundeval.run) on a generated (SYNTHETIC) data set:
the run directory equals what `groundeval run` writes for the same answers, errors are recorded
per query, Ctrl-C stops cleanly and a resume asks only the rest, wrong answers name the query;
groundeval.replay (the library's replay grounder) equals `groundeval run --grounder
predictions:FILE`."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

import groundeval
from cli_support import cli_json, run_cli


@pytest.fixture(scope="module")
def ds(generated):
    return groundeval.open_flickr30k(generated["root"], split="test")


@pytest.fixture(scope="module")
def truth(ds):
    return {q.key: q.boxes for q in ds.queries()}


def records(run_dir):
    """The run's predictions.jsonl as {key: record}."""
    out = {}
    with open(os.path.join(os.fspath(run_dir), "predictions.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            key = f"{r['image_id']}/{r['sentence_id']}/{r['phrase_index']}"
            assert key not in out, f"{key} recorded twice"
            out[key] = r
    return out


def manifest(run_dir):
    with open(os.path.join(os.fspath(run_dir), "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def strip_meta(d):
    """The numbers, without the names of the inputs and the answers' timings."""
    return {k: v for k, v in d.items() if k not in ("dataset", "split", "predictions", "latency")}


def oracle_answer(truth, q):
    """A deterministic answer per query: the first ground-truth box for some queries; for the
    others that box moved off itself first, then the box (so R@1 is neither 0 nor 1, R@5 is 1)."""
    x1, y1, x2, y2 = truth[q.key][0]
    if q.phrase_index % 3 == 1:
        dx, dy = x2 - x1 + 1, y2 - y1 + 1
        return [[x1 + dx, y1 + dy, x2 + dx, y2 + dy], [x1, y1, x2, y2]]
    return [[x1, y1, x2, y2]]


def test_oracle_run_equals_cli_run_of_the_same_answers(ds, truth, generated, tmp_path):
    asked = []

    def model(request):
        asked.append(request)
        assert request.image_size[0] > 0 and request.sentence
        for q in request.queries:
            assert request.sentence[q.span[0]:q.span[1]] == q.text
        return [oracle_answer(truth, q) for q in request.queries]

    res = groundeval.run(ds, model, tmp_path / "py", batch_size=7)
    assert res.status == "complete" and res.recorded == res.total == len(truth)
    assert res.already == 0 and res.failures == 0
    assert len(asked) == len({(r.image_id, r.sentence_id) for r in asked})  # one per sentence
    m = manifest(res.out)
    assert m["status"] == "complete" and m["grounder"] == "model"
    assert m["dataset"] == generated["spec"] and m["split"] == "test"

    # The same answers as a predictions file, run by the CLI: the same evaluation, box for box.
    answers = [{"image_id": q.image_id, "sentence_id": q.sentence_id,
                "phrase_index": q.phrase_index, "boxes": [list(b) for b in oracle_answer(truth, q)]}
               for q in ds.queries()]
    path = tmp_path / "answers.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        groundeval.write_jsonl(f, answers)
    run_cli("run", "--dataset", generated["spec"], "--split", "test", "--grounder",
            f"predictions:{path}", "--out", tmp_path / "cli", "--quiet")
    py, cli = records(res.out), records(tmp_path / "cli")
    assert py.keys() == cli.keys() == truth.keys()
    for k in py:
        assert py[k]["boxes"] == cli[k]["boxes"] and py[k]["status"] == cli[k]["status"] == "ok"
    for protocol in ("any", "merged"):
        ev = cli_json("evaluate", "--dataset", generated["spec"], "--split", "test",
                      "--predictions", os.path.join(res.out, "predictions.jsonl"), "--protocol",
                      protocol, "--quiet")
        assert strip_meta(ev) == strip_meta(cli_json(
            "evaluate", "--dataset", generated["spec"], "--split", "test", "--predictions",
            tmp_path / "cli" / "predictions.jsonl", "--protocol", protocol, "--quiet"))
        assert strip_meta(groundeval.evaluate(ds, res.predictions, protocol=protocol).to_dict()) \
            == strip_meta(ev)
    r1 = groundeval.evaluate(ds, res.predictions).recall
    assert 0.3 < r1["1"]["all"] < 1.0 and r1["5"]["all"] == 1.0
    # The CLI's report reads the Python run directory (its manifest names the data set).
    index = groundeval.report([res.out], tmp_path / "report")
    assert os.path.getsize(index) > 0


def test_exact_ground_truth_gives_recall_one(ds, truth, tmp_path):
    res = groundeval.run(ds, lambda r: [truth[q.key] for q in r.queries], tmp_path / "gt",
                         name="gt")
    assert groundeval.evaluate(ds, res).recall["1"]["all"] == 1.0


def test_exceptions_are_recorded_per_query(ds, truth, tmp_path):
    def model(request):
        if int(request.image_id) % 3 == 0:
            raise ValueError(f"no pixels for {request.image_id}")
        return [RuntimeError("nope") if q.phrase_index == 0 else [truth[q.key][0]]
                for q in request.queries]

    res = groundeval.run(ds, model, tmp_path / "err", batch_size=5)
    rec = records(res.out)
    raised = {k for k in rec if int(k.split("/")[0]) % 3 == 0}
    answered_error = {k for k in rec if k not in raised and k.endswith("/0")}
    assert raised and answered_error
    errors = {k for k, r in rec.items() if r["status"] == "error"}
    assert errors == raised | answered_error and res.failures == len(errors)
    for k in raised:
        assert rec[k]["message"] == f"ValueError: no pixels for {k.split('/')[0]}"
    for k in answered_error:
        assert rec[k]["message"] == "RuntimeError: nope"
    assert all(rec[k]["status"] == "ok" for k in rec.keys() - errors)
    d = groundeval.evaluate(ds, res.predictions).to_dict()
    assert d["answers"]["error"] == len(errors)


def test_interrupt_records_what_was_answered_and_resume_asks_the_rest(ds, truth, tmp_path):
    full = groundeval.run(ds, lambda r: [oracle_answer(truth, q) for q in r.queries],
                          tmp_path / "full", name="oracle")
    calls = []

    def interrupted(request):
        if len(calls) == 9:  # the 10th request: the middle of the second batch of 8
            raise KeyboardInterrupt
        calls.append(request)
        return [oracle_answer(truth, q) for q in request.queries]

    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt, match="run again to resume"):
        groundeval.run(ds, interrupted, out, batch_size=8, name="oracle")
    first = records(out)
    assert first.keys() == {f"{r.image_id}/{r.sentence_id}/{q.phrase_index}"
                            for r in calls for q in r.queries}
    assert manifest(out)["status"] == "interrupted"

    asked = []

    def rest(request):
        asked.extend(q.key for q in request.queries)
        return [oracle_answer(truth, q) for q in request.queries]

    res = groundeval.run(ds, rest, out, batch_size=8, name="oracle")
    assert res.status == "complete" and res.already == len(first)
    assert sorted(asked) == sorted(truth.keys() - first.keys())
    done, ref = records(out), records(full.out)
    assert done.keys() == ref.keys()
    for k in ref:
        assert done[k]["boxes"] == ref[k]["boxes"] and done[k]["status"] == ref[k]["status"]
    # A third run asks nothing.
    res = groundeval.run(ds, rest, out, name="oracle")
    assert res.recorded == 0 and res.already == len(truth)


def test_sigint_in_a_subprocess_stops_cleanly_and_resumes(generated, tmp_path):
    """A real Ctrl-C (SIGINT to the process) while a Python grounder runs."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal, sys
        import groundeval
        # Python leaves SIGINT ignored when it starts ignored (a job started with '&' from a
        # script): the test is about groundeval's handling of Ctrl-C, so it installs Python's own.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        ds = groundeval.open_flickr30k({generated["root"]!r}, split="test")
        truth = {{q.key: q.boxes for q in ds.queries()}}
        n = 0
        def model(request):
            global n
            n += 1
            if n == 12 and sys.argv[1] == "interrupt":
                os.kill(os.getpid(), signal.SIGINT)
            return [truth[q.key] for q in request.queries]
        try:
            r = groundeval.run(ds, model, sys.argv[2], batch_size=5, name="gt")
        except KeyboardInterrupt as e:
            print("interrupted", n, e)
            sys.exit(130)
        print("done", r.already, r.recorded)
    """))
    out = tmp_path / "run"
    p = subprocess.run([sys.executable, script, "interrupt", out], capture_output=True, text=True,
                       check=False)
    assert p.returncode == 130, p.stderr
    assert p.stdout.startswith("interrupted")
    first = records(out)
    assert 0 < len(first) and manifest(out)["status"] == "interrupted"
    p = subprocess.run([sys.executable, script, "go", out], capture_output=True, text=True,
                       check=True)
    _, already, recorded = p.stdout.split()
    assert int(already) == len(first)
    assert len(records(out)) == int(already) + int(recorded)
    assert manifest(out)["status"] == "complete"


@pytest.mark.parametrize("answer,message", [
    (lambda q: [1.0, 2.0, 3.0, 4.0], r"query \S+/\d+/\d+ .*box #0 must be 4 numbers"),
    (lambda q: None, r"query \S+/\d+/\d+ .*got None"),
    (lambda q: "[1, 2, 3, 4]", r"query \S+/\d+/\d+ .*expected a list of boxes"),
    (lambda q: [[0, 0, 1]], r"query \S+/\d+/\d+ .*box #0 must be 4 numbers"),
    (lambda q: [[0, 0, float("nan"), 1]], r"query \S+/\d+/\d+ .*non-finite"),
    (lambda q: {"boxes": [[0, 0, 1, 1]], "scores": [1, 2]}, r"query \S+/\d+/\d+ .*1 boxes but 2"),
    (lambda q: {"boxes": [], "status": "bad"}, r"query \S+/\d+/\d+ .*status must be"),
    (lambda q: {"box": []}, r"query \S+/\d+/\d+ .*unknown keys \['box'\]"),
])
def test_wrong_answers_name_the_query(ds, tmp_path, answer, message):
    with pytest.raises(groundeval.Error, match=message):
        groundeval.run(ds, lambda r: [answer(q) for q in r.queries], tmp_path / "bad")


def test_wrong_answer_count_names_the_request(ds, tmp_path):
    with pytest.raises(groundeval.Error, match=r"answered 0 queries of \d+ for image \S+ sentence"):
        groundeval.run(ds, lambda r: [], tmp_path / "bad")
    with pytest.raises(TypeError, match="grounder must be"):
        groundeval.run(ds, 42, tmp_path / "bad2")


def test_other_exceptions_stop_the_run_and_propagate(ds, truth, tmp_path):
    n = []

    def model(request):
        n.append(1)
        if len(n) == 3:
            raise SystemExit(7)  # not an Exception: not recorded, the run stops
        return [truth[q.key] for q in request.queries]

    with pytest.raises(SystemExit):
        groundeval.run(ds, model, tmp_path / "exit", batch_size=2)
    assert len(records(tmp_path / "exit")) > 0  # the first batch (2 requests) stays

    def bad_progress(p):
        if p.done:
            raise OSError("progress display broke")

    with pytest.raises(OSError, match="progress display broke"):
        groundeval.run(ds, lambda r: [truth[q.key] for q in r.queries], tmp_path / "prog",
                       progress=bad_progress, batch_size=4)


class BatchModel:
    """A grounder object: ground_many gets whole batches; describe() names its configuration."""
    name = "batch-model"

    def __init__(self, truth, version):
        self.truth = truth
        self.version = version
        self.batches = []

    def describe(self):
        return f"batch-model v{self.version}"

    def ground_many(self, requests):
        self.batches.append(len(requests))
        if len(self.batches) == 2:
            raise RuntimeError("GPU fell over")
        return [[{"boxes": self.truth[q.key], "scores": [0.9] * len(self.truth[q.key]),
                  "raw_text": "from the batch"} for q in r.queries] for r in requests]


def test_ground_many_describe_limit_shard_and_progress(ds, truth, tmp_path, capsys):
    g = BatchModel(truth, 1)
    seen = []
    res = groundeval.run(ds, g, tmp_path / "b", batch_size=6, progress=seen.append)
    assert g.batches[:2] == [6, 6] and max(g.batches) <= 6
    m = manifest(res.out)
    assert m["grounder"] == "batch-model v1" and m["grounder_name"] == "batch-model"
    rec = records(res.out)
    second = [k for k, r in rec.items() if r["status"] == "error"]
    assert second and all(rec[k]["message"] == "RuntimeError: GPU fell over" for k in second)
    ok = next(r for r in rec.values() if r["status"] == "ok")
    assert ok["raw_text"] == "from the batch" and set(ok["scores"]) == {0.9}
    assert isinstance(seen[0], groundeval.RunProgress) and seen[0].batch == 0
    assert seen[-1].done == res.recorded == len(truth)
    assert sum(p.batch for p in seen) == len(truth)
    assert sum(p.batch_failures for p in seen) == len(second) == seen[-1].failures

    # Another description in the same directory is refused; start_over discards the run.
    with pytest.raises(groundeval.Error, match="grounder"):
        groundeval.run(ds, BatchModel(truth, 2), tmp_path / "b")
    res = groundeval.run(ds, BatchModel(truth, 2), tmp_path / "b", start_over=True, limit=3,
                         progress=True)
    assert res.status == "partial" and 0 < res.recorded < len(truth)
    assert "quer" in capsys.readouterr().err  # the progress line (a tqdm bar when installed)

    # Two shards hold every query once.
    keys = []
    for i in range(2):
        r = groundeval.run(ds, BatchModel(truth, 3), tmp_path / f"s{i}", shard=(i, 2))
        assert manifest(r.out)["shard"] == f"{i}/2"
        keys += records(r.out).keys()
    assert sorted(keys) == sorted(truth)


def test_replay_equals_cli_run(ds, generated, tmp_path):
    path = generated["predictions"][("jsonl", 0)]
    res = groundeval.replay(ds, path, tmp_path / "lib")
    assert isinstance(res, groundeval.RunResult) and res.status == "complete"
    run_cli("run", "--dataset", generated["spec"], "--split", "test", "--grounder",
            f"predictions:{path}", "--out", tmp_path / "cli", "--quiet")
    lib, cli = records(res.out), records(tmp_path / "cli")
    assert lib.keys() == cli.keys()
    for k in lib:
        assert {**lib[k], "latency_s": None} == {**cli[k], "latency_s": None}
    ml, mc = manifest(res.out), manifest(tmp_path / "cli")
    for key in ("dataset", "split", "selection", "grounder", "grounder_spec", "config_hash",
                "dataset_content_hash", "latency", "status"):
        assert ml[key] == mc[key], key
    # Python data replays too, and again into the same directory it resumes (nothing to add).
    rows = [dict(r) for r in lib.values()]
    for _ in range(2):
        res = groundeval.replay(ds, rows, tmp_path / "data")
    assert res.recorded == 0 and res.already == len(rows)
    assert groundeval.evaluate(ds, res).to_dict()["recall_at"] == \
        groundeval.evaluate(ds, path).to_dict()["recall_at"]


def test_interrupt_in_the_progress_callback_stops_after_that_batch(ds, truth, tmp_path):
    def progress(p):
        if p.done:
            raise KeyboardInterrupt  # Ctrl-C while the progress display runs

    with pytest.raises(KeyboardInterrupt):
        groundeval.run(ds, lambda r: [truth[q.key] for q in r.queries], tmp_path / "p",
                       batch_size=4, progress=progress, measures_latency=False)
    m = manifest(tmp_path / "p")
    assert m["status"] == "interrupted" and m["latency"] == "in-process"
    first = records(tmp_path / "p")
    assert len({k.rsplit("/", 1)[0] for k in first}) == 4  # the first batch: 4 sentences
    res = groundeval.run(ds, lambda r: [truth[q.key] for q in r.queries], tmp_path / "p",
                         measures_latency=False)
    assert res.already == len(first) and res.already + res.recorded == len(truth)
