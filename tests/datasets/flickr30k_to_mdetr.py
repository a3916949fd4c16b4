#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write a Flickr30k Entities folder as MDETR-format JSON (final_flickr_separateGT_<split>.json
layout: COCO-style "images" = one entry per caption with "caption", "sentence_id",
"original_img_id", "tokens_positive_eval"; "annotations" = xywh boxes with "tokens_positive").

Written for groundeval's round-trip tests from the format description in docs/datasets.md; it is
not MDETR's converter. Difference: MDETR merges boxes of one caption whose IoU >= 0.95 into one
annotation; this script merges only identical boxes (which is all a shared <object> produces), so
near-duplicate boxes stay separate. Standard library only.

Usage: flickr30k_to_mdetr.py FLICKR_DIR SPLIT OUT.json [--merged]
"""
import json
import sys
import xml.etree.ElementTree as ET


def sentences(path):
    with open(path, encoding="utf-8") as f:  # universal newlines, like the reference
        lines = f.read().split("\n")
    out = []
    for line in lines:
        if not line:
            continue
        words, phrases, cur = [], [], None
        for tok in line.split():
            if cur is None and tok.startswith("["):
                head = tok[1:].split("/")  # ["", "EN#id", type...]
                cur = {"id": head[1][3:], "first": len(words), "words": []}
                continue
            if cur is not None and tok.endswith("]"):
                tok = tok[:-1]
                cur["words"].append(tok)
                words.append(tok)
                phrases.append(cur)
                cur = None
                continue
            if cur is not None:
                cur["words"].append(tok)
            words.append(tok)
        text = " ".join(words)
        for p in phrases:
            p["begin"] = sum(len(w) for w in words[: p["first"]]) + p["first"]
            p["end"] = p["begin"] + len(" ".join(p["words"]))
            assert text[p["begin"]:p["end"]] == " ".join(p["words"])
        out.append((text, phrases))
    return out


def annotation(path):
    root = ET.parse(path).getroot()
    size = root.find("size")
    boxes = {}
    for obj in root.findall("object"):
        bb = obj.find("bndbox")
        if bb is None:
            continue
        b = [int(bb.find(t).text) for t in ("xmin", "ymin", "xmax", "ymax")]
        for n in obj.findall("name"):
            boxes.setdefault(n.text.strip(), []).append(b)
    return int(size.find("width").text), int(size.find("height").text), boxes


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    merged = "--merged" in sys.argv
    root, split, out = args
    with open(f"{root}/{split}.txt") as f:
        ids = [l.strip() for l in f if l.strip()]
    images, anns = [], []
    for img in ids:
        w, h, boxes = annotation(f"{root}/Annotations/{img}.xml")
        if merged:
            boxes = {k: [[min(b[0] for b in v), min(b[1] for b in v), max(b[2] for b in v),
                          max(b[3] for b in v)]] for k, v in boxes.items()}
        for sid, (text, phrases) in enumerate(sentences(f"{root}/Sentences/{img}.txt")):
            jid = len(images)
            ev = [p for p in phrases if p["id"] in boxes]
            images.append({"file_name": f"{img}.jpg", "height": str(h), "width": str(w), "id": jid,
                           "caption": text, "dataset_name": "flickr",
                           "tokens_negative": [[0, len(text)]], "sentence_id": sid,
                           "original_img_id": int(img),
                           "tokens_positive_eval": [[[p["begin"], p["end"]]] for p in ev]})
            by_box = {}  # identical boxes -> one annotation carrying every phrase span
            for p in ev:
                for b in boxes[p["id"]]:
                    spans = by_box.setdefault(tuple(b), [])
                    if [p["begin"], p["end"]] not in spans:
                        spans.append([p["begin"], p["end"]])
            for b, spans in by_box.items():
                x1, y1, x2, y2 = (float(v) for v in b)
                anns.append({"area": (x2 - x1) * (y2 - y1), "iscrowd": 0, "image_id": jid,
                             "category_id": 1, "id": len(anns), "bbox": [x1, y1, x2 - x1, y2 - y1],
                             "tokens_positive": spans})
    doc = {"info": [], "licenses": [], "images": images, "annotations": anns,
           "categories": [{"supercategory": "object", "id": 1, "name": "object"}]}
    with open(out, "w") as f:
        json.dump(doc, f)


if __name__ == "__main__":
    main()
