#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Synthetic predictions for a Flickr30k Entities-format data set (testing and benchmarking only).

Reads a data set in the real on-disk format (<root>/<split>.txt, <root>/Annotations/<id>.xml,
<root>/Sentences/<id>.txt) and writes, for every evaluable phrase, a ranked list of N boxes built
from its ground truth with a seeded PRNG. NOTHING HERE IS MODEL OUTPUT: the boxes are made to
exercise the evaluator's edge cases:

  exact   a copy of a GT box (IoU 1)
  half    a GT box with its height halved: IoU exactly 0.5 (a hit: the threshold is inclusive)
  trap    IoU = 0.5 - ~1e-8: below 0.5 in float64, rounds to 0.5 in float32 (a miss)
  above   IoU = 0.5 + ~1e-8 (a hit)
  jitter  a GT box moved by a few pixels (IoU spread around the threshold), float coordinates
  random  a random box in the image
  zero    the [0, 0, 0, 0] placeholder
  nan     an inverted box whose negative area cancels the GT area: 0/0 = NaN in the reference
  enclose the enclosing box of all GT boxes (matters for MERGED vs ANY)

Each box targets either one GT box or the enclosing box, so both protocols see ties and traps.
Both layouts also get duplicate sentence entries (shuffled, so sometimes the garbage copy comes
first: the first must win), entries for sentences without evaluable phrases (empty lists) and one
entry for an unknown image. The JSON Lines file lists the same records in the same order, so both
layouts must evaluate to the same numbers. Empty candidate lists are not produced (the reference
crashes on them).

Usage:
  scripts/generate_predictions.py --flickr DIR --split test --out preds.json [--format mdetr]
                                  [--boxes 10] [--seed 0] [--no-noise]
"""
import argparse
import json
import os
import random
import sys
import xml.etree.ElementTree as ET

KINDS = ["exact", "half", "trap", "above", "jitter", "random", "zero", "nan", "enclose"]
WEIGHTS = [8, 8, 8, 6, 30, 25, 5, 2, 8]


def read_split(root, split):
    with open(os.path.join(root, f"{split}.txt")) as f:
        return [line.strip() for line in f if line.strip()]


def read_boxes(path):
    """chain id -> list of [x1, y1, x2, y2] (raw integers), plus (width, height)."""
    root = ET.parse(path).getroot()
    size = root.find("size")
    width = int(size.find("width").text) if size is not None else 0
    height = int(size.find("height").text) if size is not None else 0
    boxes = {}
    for obj in root.findall("object"):
        bb = obj.find("bndbox")
        if bb is None:
            continue
        box = [int(bb.find(t).text) for t in ("xmin", "ymin", "xmax", "ymax")]
        for name in obj.findall("name"):
            boxes.setdefault(name.text, []).append(box)
    return boxes, width, height


def read_sentences(path):
    """Per non-empty line: list of (chain id, phrase text) in sentence order (the official rules:
    a token starting with '[' opens a phrase, a token ending with ']' closes it)."""
    with open(path) as f:
        lines = f.read().split("\n")
    out = []
    for line in lines:
        if not line:
            continue
        phrases, words, inside = [], [], False
        for tok in line.split():
            if inside:
                if tok[-1] == "]":
                    inside = False
                    words.append(tok[:-1])
                    phrases.append((chain, " ".join(words)))
                    words = []
                else:
                    words.append(tok)
            elif tok[0] == "[":
                inside = True
                chain = tok.split("/")[1][3:]
        out.append(phrases)
    return out


def enclosing(boxes):
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes)]


def make_box(kind, target, all_gt, width, height, rng):
    x1, y1, x2, y2 = target
    w, h = x2 - x1, y2 - y1
    if kind == "exact":
        return list(target)
    if kind == "enclose":
        return enclosing(all_gt)
    if kind in ("half", "trap", "above"):
        if w <= 0 or h <= 0:
            return [x1, y1, x2, y2]
        # Contained box of height h/2 (+- a relative 1e-8): IoU = 0.5 exactly, just below or above.
        eps = {"half": 0.0, "trap": -1e-8, "above": 1e-8}[kind]
        return [x1, y1, x2, y1 + h * (0.5 + eps)]
    if kind == "jitter":
        s = max(1.0, 0.15 * max(w, h))
        return [x1 + rng.uniform(-s, s), y1 + rng.uniform(-s, s), x2 + rng.uniform(-s, s),
                y2 + rng.uniform(-s, s)]
    if kind == "random":
        W, H = max(width, 2), max(height, 2)
        a, b = sorted(rng.uniform(0, W) for _ in range(2))
        c, d = sorted(rng.uniform(0, H) for _ in range(2))
        return [round(a, 2), round(c, 2), round(b, 2), round(d, 2)]
    if kind == "zero":
        return [0, 0, 0, 0]
    if kind == "nan":
        # Inverted in x, to the right of the target: area -w*h, no overlap -> union 0 -> 0/0.
        return [x2 + 10 + w, y1, x2 + 10, y2]
    raise ValueError(kind)


def phrase_boxes(gt, width, height, n, rng, noise):
    out = []
    for _ in range(n):
        kind = (rng.choices(KINDS, WEIGHTS)[0] if noise
                else rng.choice(["exact", "half", "trap", "jitter", "random"]))
        target = enclosing(gt) if rng.random() < 0.4 else rng.choice(gt)
        out.append(make_box(kind, target, gt, width, height, rng))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flickr", required=True, help="data set root (Annotations/, Sentences/, <split>.txt)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--out", required=True)
    ap.add_argument("--format", choices=["mdetr", "jsonl"], default="mdetr")
    ap.add_argument("--boxes", type=int, default=10, help="boxes per phrase")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-noise", action="store_true",
                    help="no duplicates/unknown ids and no NaN/placeholder boxes")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    noise = not args.no_noise

    entries = []   # MDETR layout; each entry carries its JSON Lines records
    for img in read_split(args.flickr, args.split):
        boxes, width, height = read_boxes(os.path.join(args.flickr, "Annotations", f"{img}.xml"))
        sentences = read_sentences(os.path.join(args.flickr, "Sentences", f"{img}.txt"))
        for sid, phrases in enumerate(sentences):
            lists, records = [], []
            for pidx, (chain, text) in enumerate(phrases):
                if chain not in boxes:
                    continue
                lst = phrase_boxes(boxes[chain], width, height, args.boxes, rng, noise)
                lists.append(lst)
                records.append({
                    "image_id": img, "sentence_id": sid, "phrase_index": pidx, "chain_id": chain,
                    "phrase": text, "boxes": lst,
                    "scores": [round(1.0 - i / (2.0 * args.boxes), 6) for i in range(len(lst))],
                    "status": "ok", "message": "", "raw_text": "",
                    "latency_s": round(rng.uniform(0.01, 0.2), 6),
                    "config_hash": "synthetic-generate_predictions-seed%d" % args.seed})
            entries.append(({"image_id": int(img) if img.isdigit() else img, "sentence_id": sid,
                             "boxes": lists}, records))
    if noise and entries:
        # Duplicates (whichever comes first after the shuffle must win) and an unknown image.
        for e, recs in rng.sample(entries, max(1, len(entries) // 50)):
            bad = [[[0, 0, 1, 1]] for _ in e["boxes"]]
            entries.append((dict(e, boxes=bad),
                            [dict(r, boxes=[[0, 0, 1, 1]], scores=[1.0]) for r in recs]))
        entries.append(({"image_id": "no_such_image", "sentence_id": 0, "boxes": [[[0, 0, 1, 1]]]},
                        [{"image_id": "no_such_image", "sentence_id": 0, "phrase_index": 0,
                          "boxes": [[0, 0, 1, 1]], "status": "ok"}]))
        rng.shuffle(entries)
    with open(args.out, "w") as f:
        if args.format == "mdetr":
            json.dump([e for e, _ in entries], f)
            f.write("\n")
        else:
            for _, recs in entries:
                for r in recs:
                    f.write(json.dumps(r) + "\n")
    print(f"wrote {args.out} ({args.format}): {len(entries)} sentence entries", file=sys.stderr)


if __name__ == "__main__":
    main()
