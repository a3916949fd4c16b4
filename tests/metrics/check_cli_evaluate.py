#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CTest check of `groundeval evaluate` and `groundeval compare` on a small generated data set:
the JSON report schema, agreement of the two predictions layouts, and the failure/flag paths.

Usage: check_cli_evaluate.py GROUNDEVAL_BINARY SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile


def run(cmd, expect_rc=0):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != expect_rc:
        sys.exit(f"FAIL: {' '.join(cmd)} returned {p.returncode}, expected {expect_rc}\n"
                 f"{p.stdout}\n{p.stderr}")
    return p


def main():
    exe, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        run([sys.executable, f"{src}/scripts/generate_flickr30k.py", data, "--scale", "0.02"])
        preds = {}
        for fmt, seed in (("mdetr", 0), ("jsonl", 0), ("mdetr", 1)):
            path = os.path.join(tmp, f"pred_{fmt}_{seed}.{fmt}")
            run([sys.executable, f"{src}/scripts/generate_predictions.py", "--flickr", data,
                 "--split", "test", "--format", fmt, "--seed", str(seed), "--out", path])
            preds[(fmt, seed)] = path
        spec = f"flickr30k:{data}"
        reports = {}
        for key, path in preds.items():
            out = os.path.join(tmp, f"report_{key[0]}_{key[1]}.json")
            p = run([exe, "evaluate", "--dataset", spec, "--split", "test", "--predictions", path,
                     "--json", out])
            assert "R@1" in p.stdout and "Upper bound" in p.stdout, p.stdout
            reports[key] = json.load(open(out))
        r = reports[("mdetr", 0)]
        assert set(r["recall_at"]) == {"1", "5", "10", "upper_bound"}, r["recall_at"].keys()
        for k, cats in r["recall_at"].items():
            assert "all" in cats
            for c, v in cats.items():
                assert 0.0 <= v <= 1.0, (k, c, v)
                assert v == r["counts"][c]["hits"][k] / r["counts"][c]["phrases"], (k, c)
        assert r["phrases"] == r["counts"]["all"]["phrases"] > 0
        assert r["sentences"] > 0 and r["images"] > 0
        assert r["warnings"]["duplicate_sentences"] > 0 and r["warnings"]["unknown_images"] == 1
        # Both layouts of the same predictions give the same numbers.
        assert reports[("jsonl", 0)]["recall_at"] == r["recall_at"]
        assert reports[("jsonl", 0)]["latency"]["queries"] == r["phrases"]
        # Point answers: replacing every third record's boxes by the centre of its top box as a
        # point keeps the pointing game's hits (the top point is the same) and turns those
        # phrases into misses for Recall@k, counted as point answers.
        base = reports[("jsonl", 0)]
        assert base["answers"]["point_answers"] == 0
        assert base["pointing_game"]["all"]["hits"] == round(
            base["localization"]["pointing_game"] * base["phrases"])
        pointed = os.path.join(tmp, "points.jsonl")
        n_points = 0
        with open(preds[("jsonl", 0)]) as f, open(pointed, "w") as g:
            for n, line in enumerate(f):
                rec = json.loads(line)
                b = rec["boxes"][0] if rec["boxes"] else None
                if n % 3 == 0 and b and all(isinstance(v, (int, float)) for v in b):
                    rec["points"] = [[(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]]
                    rec["boxes"], rec["scores"] = [], []
                    n_points += 1
                g.write(json.dumps(rec) + "\n")
        out = os.path.join(tmp, "points.json")
        p = run([exe, "evaluate", "--dataset", spec, "--split", "test", "--predictions", pointed,
                 "--json", out])
        pr = json.load(open(out))
        assert "point answers: " in p.stdout, p.stdout
        assert pr["answers"]["point_answers"] > 0, pr["answers"]
        assert pr["pointing_game"]["all"]["point_answers"] == pr["answers"]["point_answers"]
        assert pr["pointing_game"]["all"]["hits"] == base["pointing_game"]["all"]["hits"], \
            (pr["pointing_game"]["all"], base["pointing_game"]["all"])
        assert pr["counts"]["all"]["hits"]["1"] < base["counts"]["all"]["hits"]["1"]
        assert set(pr["pointing_game"]) == set(base["recall_at"]["1"]), pr["pointing_game"].keys()
        # MERGED-box differs from ANY-box on this data.
        out = os.path.join(tmp, "merged.json")
        run([exe, "evaluate", "--dataset", spec, "--predictions", preds[("mdetr", 0)],
             "--protocol", "merged", "--json", out, "--quiet"])
        assert json.load(open(out))["recall_at"] != r["recall_at"]
        # Missing predictions: an error naming the file, or counted under the flag.
        entries = json.load(open(preds[("mdetr", 0)]))
        cut = os.path.join(tmp, "cut.json")
        json.dump([e for e in entries if e["boxes"]][1:], open(cut, "w"))
        p = run([exe, "evaluate", "--dataset", spec, "--predictions", cut], expect_rc=1)
        assert "missing predictions" in p.stderr and cut in p.stderr, p.stderr
        out = os.path.join(tmp, "cut_report.json")
        run([exe, "evaluate", "--dataset", spec, "--predictions", cut, "--missing-as-miss",
             "--json", out, "--quiet"])
        assert json.load(open(out))["warnings"]["missing_phrases"] > 0
        # Bad input: errors name the file.
        bad = os.path.join(tmp, "bad.jsonl")
        open(bad, "w").write('{"image_id": "1", "sentence_id": 0}\n')
        p = run([exe, "evaluate", "--dataset", spec, "--predictions", bad], expect_rc=1)
        assert f"{bad}:1:" in p.stderr, p.stderr
        # compare: JSON schema and determinism.
        outs = []
        for i in range(2):
            out = os.path.join(tmp, f"cmp{i}.json")
            run([exe, "compare", preds[("mdetr", 0)], preds[("mdetr", 1)], "--dataset", spec,
                 "--json", out, "--bootstrap", "200"])
            outs.append(json.load(open(out)))
        c = outs[0]
        assert c == outs[1]
        assert set(c["recall_at"]) == {"1", "5", "10", "upper_bound"}
        m = c["mcnemar_recall_at_1"]
        assert m["both"] + m["a_only"] + m["b_only"] + m["neither"] == c["phrases"] == r["phrases"]
        iv = c["recall_at"]["1"]["a"]
        assert iv["lower"] <= iv["estimate"] <= iv["upper"]
        assert iv["estimate"] == r["recall_at"]["1"]["all"]
    print("groundeval evaluate/compare CLI checks passed")


if __name__ == "__main__":
    main()
