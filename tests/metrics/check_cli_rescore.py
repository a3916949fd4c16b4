#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CTest check of `groundeval evaluate --family F [--geometry K=V] [--write-rescored OUT]` on a
small generated data set: records whose raw_text writes their top box in pixels rescore with
`pixel` to the top-1 numbers of the boxes themselves, in another frame to other numbers; the
rescored file reads back; and the refusals (boxes without raw_text naming the line, MDETR JSON,
--geometry without --family, an unknown family).

Usage: check_cli_rescore.py GROUNDEVAL_BINARY SOURCE_DIR
"""
import json
import os
import sys
import tempfile

from check_cli_evaluate import run  # this script's folder is on sys.path


def main():
    exe, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        run([sys.executable, f"{src}/scripts/generate_flickr30k.py", data, "--scale", "0.02"])
        preds = os.path.join(tmp, "p.jsonl")
        run([sys.executable, f"{src}/scripts/generate_predictions.py", "--flickr", data, "--split",
             "test", "--format", "jsonl", "--seed", "0", "--out", preds])
        mdetr = os.path.join(tmp, "p.json")
        run([sys.executable, f"{src}/scripts/generate_predictions.py", "--flickr", data, "--split",
             "test", "--format", "mdetr", "--seed", "0", "--out", mdetr])
        spec = f"flickr30k:{data}"

        def evaluate(path, *extra):
            out = path + f".{len(extra)}.report.json"
            p = run([exe, "evaluate", "--dataset", spec, "--split", "test", "--predictions", path,
                     "--json", out, *extra])
            return p.stdout, json.load(open(out))

        # Each record: its top box only, and that box written as text in pixels.
        top, text = os.path.join(tmp, "top.jsonl"), os.path.join(tmp, "text.jsonl")
        n = 0
        with open(preds) as f, open(top, "w") as g, open(text, "w") as h:
            for line in f:
                rec = json.loads(line)
                if rec["boxes"]:  # the top box, corners in order (a parser orders them)
                    b = rec["boxes"][0]
                    rec["boxes"] = [[min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]),
                                     max(b[1], b[3])]]
                rec.pop("scores", None)
                g.write(json.dumps(rec) + "\n")
                if rec["boxes"]:
                    rec["raw_text"] = "[" + ", ".join(repr(float(v)) for v in rec["boxes"][0]) + "]"
                    assert "e" not in rec["raw_text"], rec["raw_text"]  # plain decimals
                    rec["boxes"] = [[1, 1, 2, 2]]  # replaced by the text
                    n += 1
                else:
                    rec["raw_text"] = "no box"
                h.write(json.dumps(rec) + "\n")
        assert n > 0
        _, base = evaluate(top)
        _, as_written = evaluate(text)
        assert as_written["recall_at"]["1"]["all"] < base["recall_at"]["1"]["all"]
        rescored = os.path.join(tmp, "rescored.jsonl")
        # clip=false: the generated boxes reach outside some images, and the boxes themselves
        # were scored unclipped
        out, px = evaluate(text, "--family", "pixel", "--geometry", "clip=false",
                           "--write-rescored", rescored)
        assert "rescored: family pixel clip=false, " in out, out
        assert px["rescored"].startswith("family pixel clip=false, "), px["rescored"]
        assert px["recall_at"]["1"] == base["recall_at"]["1"], (px["recall_at"], base["recall_at"])
        assert px["localization"]["mean_iou"] == base["localization"]["mean_iou"]
        # the rescored file reads back to the same numbers, and carries the contract
        _, back = evaluate(rescored)
        assert back["recall_at"]["1"] == px["recall_at"]["1"]
        first = json.loads(open(rescored).readline())
        assert first["geometry"]["space"] == "input_pixels", first["geometry"]
        assert first["geometry"]["clip"] is False, first["geometry"]
        # other readings, other numbers: clipped to the image, and pixels of a 100x100 input
        _, clipped = evaluate(text, "--family", "pixel")
        assert clipped["recall_at"]["1"]["all"] != px["recall_at"]["1"]["all"]
        _, small = evaluate(text, "--family", "pixel", "--geometry", "input=100x100")
        assert small["recall_at"]["1"]["all"] != px["recall_at"]["1"]["all"]
        # refusals
        p = run([exe, "evaluate", "--dataset", spec, "--predictions", top, "--family", "pixel"],
                expect_rc=1)
        assert f"{top}:" in p.stderr and "no raw_text" in p.stderr, p.stderr
        p = run([exe, "evaluate", "--dataset", spec, "--predictions", mdetr, "--family", "pixel"],
                expect_rc=1)
        assert "carries no raw text" in p.stderr, p.stderr
        p = run([exe, "evaluate", "--dataset", spec, "--predictions", text, "--geometry",
                 "input=100x100"], expect_rc=1)
        assert "need --family" in p.stderr, p.stderr
        p = run([exe, "evaluate", "--dataset", spec, "--predictions", text, "--family", "nope"],
                expect_rc=1)
        assert "nope" in p.stderr, p.stderr
    print("groundeval evaluate --family CLI checks passed")


if __name__ == "__main__":
    main()
