#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CTest datasets_cli_stats: generate a small synthetic Flickr30k Entities set, run
`groundeval stats --dataset flickr30k:DIR --split S --json OUT` for each split and compare every
count with the generator's own expected_stats.json (an independent count); then the same for a
set made with the generator's --images / --splits options.
Usage: check_cli_stats.py GROUNDEVAL_BINARY SOURCE_DIR"""
import json
import subprocess
import sys
import tempfile

exe, src = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as d:
    subprocess.run([sys.executable, f"{src}/scripts/generate_flickr30k.py", d, "--scale", "0.01",
                    "--seed", "11"], check=True, stderr=subprocess.DEVNULL)
    expected = json.load(open(f"{d}/expected_stats.json"))
    failures = 0
    for split in ("train", "val", "test", "all"):
        out = f"{d}/{split}.stats.json"
        subprocess.run([exe, "stats", "--dataset", f"flickr30k:{d}", "--split", split, "--json", out],
                       check=True, stdout=subprocess.DEVNULL)
        got = json.load(open(out))
        for key in ("images", "sentences", "evaluable_sentences", "phrases", "evaluable_phrases",
                    "boxes"):
            if not isinstance(got.get(key), int):
                print(f"{split}: key {key} missing or not an integer")
                failures += 1
        for key, want in expected[split].items():
            if got.get(key) != want:
                print(f"{split}: {key}: groundeval {got.get(key)} != generator {want}")
                failures += 1
    # The generator's --images / --splits: only the named splits, N images each.
    small = f"{d}/small"
    subprocess.run([sys.executable, f"{src}/scripts/generate_flickr30k.py", small, "--images",
                    "20", "--splits", "val,test", "--seed", "11"], check=True,
                   stderr=subprocess.DEVNULL)
    expected = json.load(open(f"{small}/expected_stats.json"))
    if expected["train"]["images"] != 0 or open(f"{small}/train.txt").read() != "":
        print("--splits val,test: train was generated")
        failures += 1
    for split in ("val", "test"):
        got = json.loads(subprocess.run(
            [exe, "stats", "--dataset", f"flickr30k:{small}", "--split", split, "--json", "-"],
            check=True, capture_output=True, text=True).stdout)
        if got["images"] != 20:
            print(f"--images 20: {split} has {got['images']} images")
            failures += 1
        for key, want in expected[split].items():
            if got.get(key) != want:
                print(f"--images 20 {split}: {key}: groundeval {got.get(key)} != generator {want}")
                failures += 1
    print("ok" if failures == 0 else f"{failures} mismatches")
    sys.exit(1 if failures else 0)
