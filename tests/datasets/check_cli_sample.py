#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CTest datasets_cli_sample: `groundeval stats --sample N [--sample-by image|phrase] --seed S`.

* By image: the images are chosen here with an independent Python transcription of the selection
  rule (docs/datasets.md §2), written to an id list, and `stats --ids LIST` must give exactly the
  counts of `stats --sample N --seed S` (every key); the generator's expected_stats.json checks
  the unsampled split, so both routes are anchored to an independent count.
* By phrase: evaluable_phrases == N, every kept sentence has a chosen phrase, n >= all keeps all.
* Same options -> same output on 1 and 2 threads; another seed -> another choice; option errors.
Usage: check_cli_sample.py GROUNDEVAL_BINARY SOURCE_DIR"""
import json
import subprocess
import sys
import tempfile

M64 = (1 << 64) - 1


def fnv1a64(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & M64
    return h


def mix(z):
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
    return z ^ (z >> 31)


def key(seed, identity):
    return mix(fnv1a64(identity.encode()) ^ mix((seed + 0x9e3779b97f4a7c15) & M64))


def choose(ids, n, seed):
    chosen = set(sorted(ids, key=lambda i: (key(seed, i), i.encode()))[:n])
    return [i for i in ids if i in chosen]


exe, src = sys.argv[1], sys.argv[2]
failures = 0


def fail(msg):
    global failures
    print("FAIL:", msg)
    failures += 1


def stats(d, *opts, threads="2"):
    r = subprocess.run([exe, "stats", "--dataset", f"flickr30k:{d}", "--threads", threads,
                        "--json", "-", *opts], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"stats {' '.join(opts)} failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)


with tempfile.TemporaryDirectory() as d:
    subprocess.run([sys.executable, f"{src}/scripts/generate_flickr30k.py", d, "--scale", "0.01",
                    "--seed", "5"], check=True, stderr=subprocess.DEVNULL)
    expected = json.load(open(f"{d}/expected_stats.json"))
    ids = [l.strip() for l in open(f"{d}/train.txt") if l.strip()]
    full = stats(d, "--split", "train")
    if full["images"] != expected["train"]["images"] or full["sample"] != "all":
        fail(f"unsampled train: {full['images']} images, sample {full['sample']!r}")

    # By image, against the independent choice loaded through --ids.
    for n, seed in ((7, 0), (40, 3), (40, 4), (len(ids) + 5, 1)):
        want_ids = choose(ids, n, seed)
        with open(f"{d}/chosen.txt", "w") as f:
            f.write("".join(i + "\n" for i in want_ids))
        via_ids = stats(d, "--ids", f"{d}/chosen.txt")
        got = stats(d, "--split", "train", "--sample", str(n), "--seed", str(seed))
        if got["sample"] != f"images={n} seed={seed}" or got["annotation_counts"] is not True:
            fail(f"image sample {n}/{seed}: header {got['sample']!r} {got['annotation_counts']!r}")
        for k, v in via_ids.items():
            if k not in ("sample",) and got.get(k) != v:
                fail(f"image sample n={n} seed={seed}: {k}: --sample {got.get(k)} != --ids {v}")
        if got["images"] != min(n, len(ids)):
            fail(f"image sample n={n}: {got['images']} images")
        if stats(d, "--split", "train", "--sample", str(n), "--seed", str(seed), threads="1") != got:
            fail(f"image sample n={n} seed={seed}: 1 thread differs from 2")
    if choose(ids, 40, 3) == choose(ids, 40, 4):
        fail("seeds 3 and 4 chose the same images (test cannot tell seeds apart)")
    # Default seed is 0; --sample-by image is the default.
    if stats(d, "--split", "train", "--sample", "7") != stats(d, "--split", "train", "--sample",
                                                             "7", "--seed", "0",
                                                             "--sample-by", "image"):
        fail("--sample 7 differs from --sample 7 --seed 0 --sample-by image")

    # By phrase.
    for n, seed in ((25, 0), (25, 9)):
        got = stats(d, "--split", "train", "--sample", str(n), "--sample-by", "phrase",
                    "--seed", str(seed))
        if got["sample"] != f"phrases={n} seed={seed}" or got["annotation_counts"] is not False:
            fail(f"phrase sample: header {got['sample']!r} {got['annotation_counts']!r}")
        if got["evaluable_phrases"] != n:
            fail(f"phrase sample n={n}: evaluable_phrases {got['evaluable_phrases']}")
        if got["sentences"] != got["evaluable_sentences"] or not 0 < got["sentences"] <= n:
            fail(f"phrase sample n={n}: sentences {got['sentences']} evaluable "
                 f"{got['evaluable_sentences']}")
        if sum(got["evaluable_phrases_by_type"].values()) < n:
            fail(f"phrase sample n={n}: per-type counts below n")
        again = stats(d, "--split", "train", "--sample", str(n), "--sample-by", "phrase",
                      "--seed", str(seed), threads="1")
        if again != got:
            fail(f"phrase sample n={n} seed={seed}: not deterministic")
    big = stats(d, "--split", "train", "--sample", "10000000", "--sample-by", "phrase")
    if big["evaluable_phrases"] != expected["train"]["evaluable_phrases"] or \
            big["evaluable_sentences"] != expected["train"]["evaluable_sentences"]:
        fail("phrase sample larger than the split does not keep every evaluable phrase")

    # Option errors.
    for bad, msg in ((["--seed", "3"], "--seed needs --sample"),
                     (["--sample", "-1"], "is not a non-negative integer"),
                     (["--sample", "5", "--sample-by", "sentence"], "must be image or phrase"),
                     (["--sample"], "needs a value")):
        r = subprocess.run([exe, "stats", "--dataset", f"flickr30k:{d}", *bad],
                           capture_output=True, text=True)
        if r.returncode == 0 or msg not in r.stderr:
            fail(f"{bad}: rc {r.returncode}, stderr {r.stderr.strip()!r}")

print("ok" if failures == 0 else f"{failures} failures")
sys.exit(1 if failures else 0)
