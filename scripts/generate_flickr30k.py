#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate a SYNTHETIC data set in the exact on-disk format of Flickr30k Entities.

Nothing in the output is real annotation: image sizes, boxes, chains and captions are drawn from
a seeded random generator (Python's `random.Random(seed)`, so the output is identical for a given
seed and Python 3 version). Image ids are taken from the official split lists in
data/flickr30k_entities/ so that the default split resolution works; the images themselves are not
produced. Every output folder holds a SYNTHETIC.txt saying so, and every XML file a comment.

Layout written to OUT:
  Annotations/<id>.xml   Sentences/<id>.txt   train.txt val.txt test.txt
  expected_stats.json    statistics per split ("train", "val", "test", "all"), counted from the
                         generator's own model of what it wrote (not by parsing the files), for
                         tests of the loader and of `groundeval stats`
  SYNTHETIC.txt

Scale: --scale 1.0 (default) gives the full 31,783 images / 158,915 sentences; --scale 0.01 about
318 images; --images N exactly N images per split (at most the split's size; drawn the same way as
--scale). --splits test (or val,test ...) generates only those splits, in the fixed order train,
val, test; the lists of the splits not generated are written empty (loading one is an error) and
their expected_stats.json entries are zero ("all" = the sum of the generated splits). The output
is a function of all the options: the same command gives the same files, and the defaults give
the same files as before these options existed, but a split's content depends on the splits
generated before it (the generator draws from one random stream), so `--splits test` does not
reproduce the test split of a full run. Target statistics (the issue's figures for the real data): about 7.7 chains and 8.7
boxes per image, 5 sentences per image, about 3.3 phrases per sentence.

Edge cases (each appears at least once at any scale >= 0.005, see `force` below): shared boxes
(one <object>, several <name>), multi-box chains, nobndbox-only and scene-only chains, a chain with
a box and a scene flag, notvisual (chain 0) phrases, chain ids absent from the XML, multi-type
headers, a chain used twice in one caption, CRLF / lone-CR / no-final-newline files, empty lines,
a whitespace-only line (a sentence without words), tabs and runs of spaces, U+00A0 / U+3000
between words, non-ASCII words, zero-width boxes, whitespace inside XML numbers.

Usage: generate_flickr30k.py OUT [--scale S | --images N] [--splits train,val,test] [--seed N]
                             [--data-dir DIR]
Standard library only.
"""
import argparse
import json
import os
import random
import sys

SPLITS = ("train", "val", "test")
TYPES = ["people", "clothing", "bodyparts", "animals", "vehicles", "instruments", "scene", "other"]
TYPE_WEIGHTS = [38, 16, 4, 4, 2, 1, 10, 25]
NOUNS = {
    "people": ["man", "woman", "boy", "girl", "child", "person", "worker", "crowd", "players"],
    "clothing": ["shirt", "hat", "jacket", "dress", "jeans", "helmet", "uniform"],
    "bodyparts": ["hand", "hands", "face", "arm", "hair", "legs"],
    "animals": ["dog", "horse", "cat", "bird", "cow"],
    "vehicles": ["car", "bus", "bike", "boat", "truck"],
    "instruments": ["guitar", "drum", "violin", "piano"],
    "scene": ["street", "park", "beach", "field", "stage", "road"],
    "other": ["ball", "sign", "table", "water", "building", "rock", "fence"],
    "notvisual": ["something", "someone", "it", "time"],
}
ADJ = ["a", "the", "a red", "an old", "two", "a young", "some", "the blue", "a small", "three"]
VERBS = ["walks past", "holds", "stands near", "looks at", "sits on", "plays with", "rides", "is in"]
UNICODE_WORDS = ["caf\u00e9", "na\u00efve", "jalape\u00f1o", "\u00fcber"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", help="output folder (created)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--scale", type=float, default=1.0, help="fraction of each split's images")
    size.add_argument("--images", type=int, default=None,
                      help="images per split (at most the split's size)")
    p.add_argument("--splits", default="train,val,test",
                   help="comma-separated splits to generate (default train,val,test)")
    p.add_argument("--seed", type=int, default=20240531)
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--data-dir", default=os.path.join(here, "..", "data"),
                   help="folder with flickr30k_entities/{train,val,test}.txt (image ids)")
    args = p.parse_args()
    args.splits = [x.strip() for x in args.splits.split(",") if x.strip()]
    bad = [x for x in args.splits if x not in SPLITS]
    if bad or not args.splits or len(set(args.splits)) != len(args.splits):
        p.error(f"--splits must name distinct splits among {','.join(SPLITS)}, got {args.splits}")
    if args.images is not None and args.images < 1:
        p.error("--images must be at least 1")
    return args


def read_ids(path):
    with open(path) as f:
        return [l.strip() for l in f if l.strip()]


class Stats:
    """Counts kept from the generator's model (independent of any parser)."""

    KEYS = ["images", "sentences", "evaluable_sentences", "phrases", "evaluable_phrases",
            "gt_boxes", "boxes", "shared_boxes", "chains", "multi_box_chains", "scene_objects",
            "nobox_objects", "degenerate_boxes", "notvisual_phrases", "missing_chain_phrases",
            "scene_phrases", "nobox_phrases"]

    def __init__(self):
        self.c = {k: 0 for k in self.KEYS}
        self.by_type = {}
        self.ev_by_type = {}

    def add(self, other):
        for k in self.KEYS:
            self.c[k] += other.c[k]
        for src, dst in ((other.by_type, self.by_type), (other.ev_by_type, self.ev_by_type)):
            for t, n in src.items():
                dst[t] = dst.get(t, 0) + n

    def to_json(self):
        d = dict(self.c)
        d["phrases_by_type"] = dict(sorted(self.by_type.items()))
        d["evaluable_phrases_by_type"] = dict(sorted(self.ev_by_type.items()))
        return d


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.next_chain = 100000

    def chance(self, p):
        return self.rng.random() < p

    def box(self, w, h, degenerate=False):
        r = self.rng
        x1 = r.randint(1, max(1, w - 20))
        y1 = r.randint(1, max(1, h - 20))
        x2 = x1 if degenerate else r.randint(x1 + 1, w)
        y2 = r.randint(y1 + 1, h)
        return [x1, y1, x2, y2]

    def image(self, img_id, force):
        """Returns (xml text, sentences bytes, Stats) for one image."""
        r = self.rng
        st = Stats()
        w, h = r.randint(200, 500), r.randint(200, 500)
        n_chains = r.randint(3, 12)
        chains = []  # dicts: id, types, boxes (count), scene, nobox
        objects = []  # (names, box or None, nobndbox, scene)
        for _ in range(n_chains):
            self.next_chain += 1
            types = [r.choices(TYPES, TYPE_WEIGHTS)[0]]
            if self.chance(0.03) or force.pop("multitype", False):
                types.append(r.choice([t for t in TYPES if t != types[0]]))
            chains.append({"id": str(self.next_chain), "types": types, "boxes": 0,
                           "scene": False, "nobox": False})
        for c in chains:
            u = r.random()
            if u < 0.80 or "scene" in c["types"] and u < 0.85:
                n = 1
                if self.chance(0.20) or force.pop("multibox", False):
                    n = r.randint(2, 4)
                for _ in range(n):
                    degenerate = self.chance(0.0005) or force.pop("degenerate", False)
                    objects.append(([c["id"]], self.box(w, h, degenerate), None, None))
                    c["boxes"] += 1
                if self.chance(0.05) or force.pop("box_and_scene", False):
                    objects.append(([c["id"]], None, 0, 1))
                    c["scene"] = True
            elif "scene" in c["types"] or u < 0.90:
                objects.append(([c["id"]], None, 0, 1))
                c["scene"] = True
            else:
                objects.append(([c["id"]], None, 1, 0))
                c["nobox"] = True
        # Shared boxes: one physical box listed under two chains.
        box_chains = [c for c in chains if c["boxes"] > 0]
        if len(box_chains) >= 2 and (self.chance(0.12) or force.pop("shared", False)):
            a, b = r.sample(box_chains, 2)
            objects.append(([a["id"], b["id"]], self.box(w, h), None, None))
            a["boxes"] += 1
            b["boxes"] += 1
        r.shuffle(objects)

        # XML
        space = force.pop("xml_space", False) or self.chance(0.001)
        out = ["<annotation>", "\t<!-- SYNTHETIC: generated by groundeval scripts/generate_flickr30k.py -->",
               f"\t<filename>{img_id}.jpg</filename>", "\t<source>", "\t\t<database>The Flickr30k Database</database>",
               "\t</source>", "\t<size>", f"\t\t<width>{w}</width>", f"\t\t<height>{h}</height>",
               "\t\t<depth>3</depth>", "\t</size>"]
        for names, box, nobndbox, scene in objects:
            out.append("\t<object>")
            for n in names:
                out.append(f"\t\t<name>{n}</name>")
            if box is not None:
                out.append("\t\t<bndbox>")
                for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), box):
                    out.append(f"\t\t\t<{tag}> {v} </{tag}>" if space else f"\t\t\t<{tag}>{v}</{tag}>")
                out.append("\t\t</bndbox>")
                st.c["boxes"] += 1
                if len(names) > 1:
                    st.c["shared_boxes"] += 1
                if box[0] == box[2] or box[1] == box[3]:
                    st.c["degenerate_boxes"] += 1
            else:
                out.append(f"\t\t<nobndbox>{nobndbox}</nobndbox>")
                out.append(f"\t\t<scene>{scene}</scene>")
                st.c["nobox_objects"] += nobndbox
                st.c["scene_objects"] += scene
            out.append("\t</object>")
        out.append("</annotation>")
        xml = "\n".join(out) + "\n"
        st.c["images"] = 1
        st.c["chains"] = len(chains)
        st.c["multi_box_chains"] = sum(1 for c in chains if c["boxes"] >= 2)

        # Sentences: 5 lines.
        lines = []
        blank_line = force.pop("whitespace_line", False) or self.chance(0.002)
        for k in range(5):
            if blank_line and k == 4:
                lines.append(" \t ")
                st.c["sentences"] += 1
                continue
            lines.append(self.sentence(chains, st, force))
        # Line endings and empty lines.
        if force.pop("empty_lines", False) or self.chance(0.02):
            lines.insert(r.randint(0, len(lines)), "")
        ending = "\n"
        if force.pop("crlf", False) or self.chance(0.02):
            ending = "\r\n"
        elif force.pop("cr", False) or self.chance(0.01):
            ending = "\r"
        text = ending.join(lines)
        if not (force.pop("no_final_newline", False) or self.chance(0.03)):
            text += ending
        return xml, text.encode("utf-8"), st

    def words(self, n):
        r = self.rng
        return [r.choice(["in", "on", "near", "with", "while", "and", "at"]) for _ in range(n)]

    def phrase(self, chain, st, force, ev_override=None):
        """Markup for one phrase of `chain` (None = notvisual); updates the phrase counts."""
        r = self.rng
        if chain is None:
            cid, types = "0", ["notvisual"]
            kind = "notvisual"
        elif chain == "missing":
            self.next_chain += 1
            cid, types = str(self.next_chain), [r.choices(TYPES, TYPE_WEIGHTS)[0]]
            kind = "missing"
        else:
            cid, types = chain["id"], chain["types"]
            kind = "box" if chain["boxes"] > 0 else ("scene" if chain["scene"] else "nobox")
        words = r.choice(ADJ).split() + [r.choice(NOUNS[types[0]])]
        if self.chance(0.005) or force.pop("unicode_word", False):
            words[-1] = r.choice(UNICODE_WORDS)
        sep = " "
        if self.chance(0.003) or force.pop("nbsp", False):
            sep = r.choice(["\u00a0", "\u3000"])
        elif self.chance(0.01) or force.pop("tab", False):
            sep = r.choice(["\t", "  ", " \t "])
        st.c["phrases"] += 1
        for t in types:
            st.by_type[t] = st.by_type.get(t, 0) + 1
        if kind == "box":
            st.c["evaluable_phrases"] += 1
            st.c["gt_boxes"] += chain["boxes"]
            for t in types:
                st.ev_by_type[t] = st.ev_by_type.get(t, 0) + 1
        else:
            st.c[{"notvisual": "notvisual_phrases", "missing": "missing_chain_phrases",
                  "scene": "scene_phrases", "nobox": "nobox_phrases"}[kind]] += 1
        return "[/EN#" + cid + "/" + "/".join(types) + " " + sep.join(words) + "]", kind == "box"

    def sentence(self, chains, st, force):
        r = self.rng
        n = r.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, 6])
        parts, evaluable = [], False
        for i in range(n):
            u = r.random()
            if u < 0.08 or force.pop("notvisual", False):
                chain = None
            elif u < 0.083 or force.pop("missing", False):
                chain = "missing"
            else:
                chain = r.choice(chains)
            if i > 0 and self.chance(0.05) or force.pop("twice", False):
                chain = chains[0]  # the same chain used again in this caption
                if i == 0:
                    m, ev = self.phrase(chain, st, force)
                    parts.append(m)
                    parts.append("and")
                    evaluable = evaluable or ev
            m, ev = self.phrase(chain, st, force)
            evaluable = evaluable or ev
            parts.append(m)
            parts.append(r.choice(VERBS) if i + 1 < n else ".")
            if i + 1 < n and self.chance(0.3):
                parts.extend(self.words(1))
        st.c["sentences"] += 1
        if evaluable:
            st.c["evaluable_sentences"] += 1
        sep = "  " if self.chance(0.01) else " "
        return sep.join(parts)


def main():
    args = parse_args()
    out = args.out
    os.makedirs(os.path.join(out, "Annotations"), exist_ok=True)
    os.makedirs(os.path.join(out, "Sentences"), exist_ok=True)
    gen = Generator(args.seed)
    picker = random.Random(args.seed + 1)
    edge_cases = ["multitype", "multibox", "degenerate", "box_and_scene", "shared", "xml_space",
                  "whitespace_line", "empty_lines", "crlf", "cr", "no_final_newline",
                  "unicode_word", "nbsp", "tab", "notvisual", "missing", "twice"]
    expected = {}
    total = Stats()
    for split in SPLITS:
        if split not in args.splits:
            with open(os.path.join(out, split + ".txt"), "w") as f:
                pass  # an empty list: this split was not generated
            expected[split] = Stats().to_json()
            continue
        ids = read_ids(os.path.join(args.data_dir, "flickr30k_entities", split + ".txt"))
        if args.images is not None:
            n = min(args.images, len(ids))
        else:
            n = len(ids) if args.scale >= 1.0 else max(1, int(round(len(ids) * args.scale)))
        if n < len(ids):
            position = {img_id: k for k, img_id in enumerate(ids)}
            ids = sorted(picker.sample(ids, n), key=position.__getitem__)
        with open(os.path.join(out, split + ".txt"), "w") as f:
            f.write("".join(i + "\n" for i in ids))
        split_stats = Stats()
        for k, img_id in enumerate(ids):
            # Force every edge case into the first images of each split (one per image).
            force = {edge_cases[k]: True} if k < len(edge_cases) else {}
            xml, txt, st = gen.image(img_id, force)
            with open(os.path.join(out, "Annotations", img_id + ".xml"), "w", newline="\n") as f:
                f.write(xml)
            with open(os.path.join(out, "Sentences", img_id + ".txt"), "wb") as f:
                f.write(txt)
            split_stats.add(st)
        expected[split] = split_stats.to_json()
        total.add(split_stats)
        print(f"{split}: {split_stats.c['images']} images, {split_stats.c['sentences']} sentences",
              file=sys.stderr)
    expected["all"] = total.to_json()
    with open(os.path.join(out, "expected_stats.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    with open(os.path.join(out, "SYNTHETIC.txt"), "w") as f:
        f.write("SYNTHETIC data generated by groundeval scripts/generate_flickr30k.py "
                f"(seed {args.seed}, "
                + (f"{args.images} images per split" if args.images is not None
                   else f"scale {args.scale}")
                + ("" if list(args.splits) == list(SPLITS) else f", splits {','.join(args.splits)}")
                + "). Not Flickr30k Entities annotations; the "
                "image ids are borrowed from the official split lists, no image is included.\n")


if __name__ == "__main__":
    main()
