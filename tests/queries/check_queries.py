# SPDX-License-Identifier: Apache-2.0
"""`groundeval queries` end to end (standard library only).

usage: check_queries.py CASE GROUNDEVAL_BINARY WORK_DIR

The data set is SYNTHETIC (scripts/generate_flickr30k.py, 6 test images), with two captions
edited to start with capitals, one of them with a non-ASCII word. Cases:
  keys      the queries equal, key for key and in order, what `run` asks (whole-image grounder)
            with no selection, --sample (by image and by phrase), --shard and --limit; and
            `evaluate` on predictions keyed that way scores every query once, warning-free
  captions  every family's caption holds the phrase at the recorded span; Grounding DINO's is
            the lower-cased, '.'-ended caption; `exact` is false only for the non-ASCII caption
  errors    bad options and an unwritable --out are errors naming the problem
  npy       npy-detector dumps (written here with the standard library; SYNTHETIC logits, one
            word-level "token" per word) of the lower-cased, '.'-ended captions replay with 0
            errors, keyed (version-2 manifest) and by caption (version 1); a dump that matches
            no query, and a query without a dump, stop `run` with a non-zero exit naming them
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ge(b, *args, ok=True):
    p = subprocess.run([b, *args], capture_output=True, text=True)
    if ok and p.returncode != 0:
        fail(f"groundeval {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


def dataset(work):
    d = os.path.join(work, "flickr")
    if os.path.isdir(d):
        return d
    subprocess.run([sys.executable, os.path.join(REPO, "scripts", "generate_flickr30k.py"),
                    "--images", "6", "--splits", "test", "--seed", "4", d], check=True,
                   capture_output=True)
    sd = os.path.join(d, "Sentences")
    names = sorted(os.listdir(sd))
    for k, name in enumerate(names[:2]):
        path = os.path.join(sd, name)
        lines = open(path, encoding="utf-8").read().splitlines()
        head, rest = lines[0].split(" ", 1) if lines[0].startswith("[") else ("", lines[0])
        rest = ("Über " if k == 0 else "") + rest[0].upper() + rest[1:]
        lines[0] = (head + " " if head else "") + rest
        open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")
    return d


def read_jsonl(path):
    return [json.loads(x) for x in open(path, encoding="utf-8") if x.strip()]


def key(r):
    return (str(r["image_id"]), int(r["sentence_id"]), int(r["phrase_index"]))


def case_keys(b, work):
    d = dataset(work)
    spec = f"flickr30k:{d}"
    selections = [[], ["--sample", "3", "--seed", "5"],
                  ["--sample", "7", "--sample-by", "phrase", "--seed", "2"],
                  ["--shard", "1/3"], ["--limit", "4"]]
    for n, sel in enumerate(selections):
        q = os.path.join(work, f"q{n}.jsonl")
        ge(b, "queries", "--dataset", spec, "--split", "test", "--out", q, *sel)
        rows = read_jsonl(q)
        if not rows:
            fail(f"{sel}: no queries")
        keys = [key(r) for r in rows]
        if len(set(keys)) != len(keys):
            fail(f"{sel}: duplicate keys")
        if any(r["key"] != "%s/%d/%d" % key(r) for r in rows):
            fail(f"{sel}: 'key' is not image/sentence/phrase")
        run = os.path.join(work, f"run{n}")
        shutil.rmtree(run, ignore_errors=True)
        ge(b, "run", "--dataset", spec, "--split", "test", "--grounder", "whole-image",
           "--out", run, "--quiet", *sel)
        got = [key(r) for r in read_jsonl(os.path.join(run, "predictions.jsonl"))]
        if got != keys:
            fail(f"{sel}: run asked {len(got)} queries, queries wrote {len(keys)}, or in "
                 f"another order (first difference: "
                 f"{next((a, c) for a, c in zip(got + [None], keys + [None]) if a != c)})")
    # evaluate on predictions keyed by the full query list: every query scored once, no warning.
    rows = read_jsonl(os.path.join(work, "q0.jsonl"))
    pred = os.path.join(work, "pred.jsonl")
    with open(pred, "w", encoding="utf-8") as f:
        for r in rows:
            w, h = r["image_size"]
            f.write(json.dumps({"image_id": r["image_id"], "sentence_id": r["sentence_id"],
                                "phrase_index": r["phrase_index"], "chain_id": r["chain_id"],
                                "boxes": [[0, 0, w, h]], "status": "ok"}) + "\n")
    rep = os.path.join(work, "rep.json")
    ge(b, "evaluate", "--dataset", spec, "--split", "test", "--predictions", pred, "--json", rep,
       "--quiet")
    j = json.load(open(rep))
    if j["phrases"] != len(rows):
        fail(f"evaluate scored {j['phrases']} phrases, queries wrote {len(rows)}")
    warn = {k: v for k, v in j["warnings"].items() if isinstance(v, int) and v}
    if warn:
        fail(f"evaluate warned on the queries' keys: {warn}")
    # and without one query, evaluate reports it missing
    with open(pred, "w", encoding="utf-8") as f:
        for r in rows[1:]:
            f.write(json.dumps({"image_id": r["image_id"], "sentence_id": r["sentence_id"],
                                "phrase_index": r["phrase_index"], "boxes": [[0, 0, 1, 1]],
                                "status": "ok"})
                    + "\n")
    p = ge(b, "evaluate", "--dataset", spec, "--split", "test", "--predictions", pred, "--quiet",
           ok=False)
    if p.returncode == 0 or "issing" not in p.stderr:
        fail("evaluate did not report the query left out: " + p.stderr)
    print(f"keys: {len(rows)} queries, {len(selections)} selections")


def case_captions(b, work):
    d = dataset(work)
    q = os.path.join(work, "qc.jsonl")
    ge(b, "queries", "--dataset", f"flickr30k:{d}", "--split", "test", "--out", q)
    rows = read_jsonl(q)
    fams = ["mdetr", "glip", "grounding-dino", "owlv2"]
    inexact = 0
    for r in rows:
        s, (b0, e0) = r["sentence"], r["span"]
        if s[b0:e0] != r["phrase"]:
            fail(f"{r['key']}: span {r['span']} does not hold {r['phrase']!r}")
        bu, eu = r["span_utf8"]
        if s.encode()[bu:eu] != r["phrase"].encode():
            fail(f"{r['key']}: span_utf8 {r['span_utf8']} does not hold the phrase")
        if list(r["captions"]) != fams:
            fail(f"{r['key']}: families {list(r['captions'])}")
        for fam, c in r["captions"].items():
            cb, ce = c["span"]
            want = r["phrase"].lower() if fam == "grounding-dino" else r["phrase"]
            if c["caption"][cb:ce] != want and c["exact"]:
                fail(f"{r['key']} {fam}: {c['caption'][cb:ce]!r} at {c['span']}, want {want!r}")
        gd = r["captions"]["grounding-dino"]
        py = s.lower().strip()
        py = py if py.endswith(".") else py + "."
        if gd["exact"] != s.isascii():
            fail(f"{r['key']}: exact is {gd['exact']} for {s!r}")
        if gd["exact"] and gd["caption"] != py:
            fail(f"{r['key']}: grounding-dino caption {gd['caption']!r}, Python gives {py!r}")
        inexact += not gd["exact"]
        if r["captions"]["mdetr"]["caption"] != s or r["captions"]["owlv2"]["caption"] != \
                r["phrase"]:
            fail(f"{r['key']}: mdetr/owlv2 captions")
    if not inexact or not any(r["sentence"][0].isupper() for r in rows):
        fail("the edited captions (capital, non-ASCII) are not among the queries")
    print(f"captions: {len(rows)} queries, {inexact} with a non-ASCII caption")


def case_errors(b, work):
    d = dataset(work)
    checks = [
        (["queries"], "--dataset is required"),
        (["queries", "--dataset", f"flickr30k:{d}", "--limit", "3", "--sample", "2"],
         "--limit and --sample cannot be combined"),
        (["queries", "--dataset", f"flickr30k:{d}", "--limit", "x"], "--limit 'x'"),
        (["queries", "--dataset", f"flickr30k:{d}", "--shard", "3/3"], "shard"),
        (["queries", "--dataset", f"flickr30k:{d}", "--out", "/nonexistent-dir/q.jsonl"],
         "/nonexistent-dir/q.jsonl: cannot write"),
        (["queries", "--dataset", f"flickr30k:{d}", "--bogus"], "unknown option '--bogus'"),
    ]
    for args, want in checks:
        p = ge(b, *args, ok=False)
        if p.returncode == 0 or want not in p.stderr:
            fail(f"{args}: exit {p.returncode}, stderr {p.stderr!r}, want {want!r}")
    if "--shard i/n" not in ge(b, "queries", "--help").stdout:
        fail("queries --help")
    print(f"errors: {len(checks)} checked")


def npy_bytes(values, dtype, shape):
    """A version-1.0 .npy file: dtype '<f4', '<i8' or '|u1', C order."""
    import struct

    fmt = {"<f4": "f", "<i8": "q", "|u1": "B"}[dtype]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        dtype, "".join(f"{n}, " for n in shape) if len(shape) != 1 else f"{shape[0]},")
    header += " " * (-(len(header) + 11) % 64) + "\n"
    return (b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() +
            struct.pack("<%d%s" % (len(values), fmt), *values))


def write_dump(path, caption, spans, keyed=None):
    """Word tokens (offsets in bytes), logits that favour query q for word q, boxes spread out."""
    import random
    import zipfile

    words, pos = [], 0
    for w in caption.split(" "):
        b = len(caption[:pos].encode())
        words.append((b, b + len(w.encode())))
        pos += len(w) + 1
    rng = random.Random(len(caption))
    q_count, t = 6, len(words) + 2
    logits = [(3.0 if t_i == 1 + (q % len(words)) else -2.0) + rng.random()
              for q in range(q_count) for t_i in range(t)]
    boxes = [v for q in range(q_count) for v in (0.2 + 0.1 * q, 0.5, 0.2, 0.3)]
    offs = [0, 0] + [v for w in words for v in w] + [0, 0]
    arrays = {"pred_logits": npy_bytes(logits, "<f4", (q_count, t)),
              "pred_boxes": npy_bytes(boxes, "<f4", (q_count, 4)),
              "token_offsets": npy_bytes(offs, "<i8", (t, 2)),
              "caption": npy_bytes(list(caption.encode()), "|u1", (len(caption.encode()),))}
    if keyed:
        iid, sid, source, index = keyed
        arrays["image_id"] = npy_bytes(list(iid.encode()), "|u1", (len(iid.encode()),))
        arrays["sentence_id"] = npy_bytes([sid], "<i8", (1,))
        arrays["source_caption"] = npy_bytes(list(source.encode()), "|u1",
                                             (len(source.encode()),))
        arrays["phrase_index"] = npy_bytes(index, "<i8", (len(index),))
        arrays["phrase_spans"] = npy_bytes([v for sp in spans for v in sp], "<i8", (len(spans), 2))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for k, v in arrays.items():
            z.writestr(k + ".npy", v)


def case_npy(b, work):
    d = dataset(work)
    spec = f"flickr30k:{d}"
    q = os.path.join(work, "qn.jsonl")
    ge(b, "queries", "--dataset", spec, "--split", "test", "--out", q)
    groups = {}
    for r in read_jsonl(q):
        groups.setdefault((r["image_id"], r["sentence_id"]), []).append(r)
    out = os.path.join(work, "dumps")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    v2 = ["# groundeval npy-detector manifest 2"]
    v1 = ["# captions only"]
    for (iid, sid), rows in groups.items():
        s = rows[0]["sentence"]
        lead = len(s.lower()) - len(s.lower().lstrip())
        cap = s.lower().strip()
        cap = cap if cap.endswith(".") else cap + "."
        spans = []
        for r in rows:  # code points of the lower-cased caption -> bytes
            cb = len(s[:r["span"][0]].lower()) - lead
            ce = len(s[:r["span"][1]].lower()) - lead
            spans.append((len(cap[:cb].encode()), len(cap[:ce].encode())))
        write_dump(os.path.join(out, f"{iid}_{sid}.npz"), cap, spans,
                   (iid, sid, s, [r["phrase_index"] for r in rows]))
        v2.append(f"{iid}\t{sid}\t{iid}_{sid}.npz")
        if s.isascii():  # version 1 matches by caption, in Grounding DINO's ASCII form
            write_dump(os.path.join(out, f"v1_{iid}_{sid}.npz"), cap, spans)
            v1.append(f"{iid} v1_{iid}_{sid}.npz")
    n = sum(len(r) for r in groups.values())

    def run(manifest_lines, name, ok=True):
        m = os.path.join(out, name)
        open(m, "w", encoding="utf-8").write("\n".join(manifest_lines) + "\n")
        r = os.path.join(work, "run_" + name)
        shutil.rmtree(r, ignore_errors=True)
        p = ge(b, "run", "--dataset", spec, "--split", "test", "--grounder",
               f"npy-detector:{m}?preset=grounding-dino", "--out", r, "--quiet", ok=ok)
        return p, (read_jsonl(os.path.join(r, "predictions.jsonl")) if p.returncode == 0 else [])

    _, recs = run(v2, "v2.txt")
    bad = [r for r in recs if r["status"] != "ok"]
    if len(recs) != n or bad:
        fail(f"keyed dumps: {len(recs)} records for {n} queries, {len(bad)} not ok: "
             f"{bad[:1]}")
    # Version 1: ASCII captions matched by caption; the non-ASCII ones keep their self-keyed
    # dumps (a version-1 manifest line, the key read from the dump's sentence_id).
    mixed = v1[:]
    for (iid, sid), rows in groups.items():
        if not rows[0]["sentence"].isascii():
            mixed.append(f"{iid} {iid}_{sid}.npz")
    _, recs1 = run(mixed, "v1.txt")
    if [r["boxes"] for r in recs1] != [r["boxes"] for r in recs] or \
            any(r["status"] != "ok" for r in recs1):
        fail("caption-matched (version 1) dumps do not replay like the keyed ones")
    # a stray dump keyed to a sentence the data set lacks
    iid = next(iter(groups))[0]
    shutil.copy(os.path.join(out, v2[1].split("\t")[2]), os.path.join(out, "stray.npz"))
    p, _ = run(v2 + [f"{iid}\t99\tstray.npz"], "stray.txt", ok=False)
    if p.returncode == 0 or "stray.npz' matches no query" not in p.stderr:
        fail(f"stray keyed dump: exit {p.returncode}, {p.stderr!r}")
    # a caption-matched dump whose caption is none of its image's
    write_dump(os.path.join(out, "odd.npz"), "a caption nobody wrote .", [(0, 1)])
    p, _ = run(mixed + [f"{iid} odd.npz"], "odd.txt", ok=False)
    if p.returncode == 0 or "odd.npz' matches no query: its caption" not in p.stderr:
        fail(f"stray caption dump: exit {p.returncode}, {p.stderr!r}")
    # a query without its dump
    p, _ = run(v2[:-1], "short.txt", ok=False)
    if p.returncode == 0 or "no dump for the query image" not in p.stderr:
        fail(f"missing dump: exit {p.returncode}, {p.stderr!r}")
    print(f"npy: {n} queries replayed with 0 errors; 3 mismatches stopped the run")


def main():
    if len(sys.argv) != 4:
        fail(__doc__)
    case, b, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    {"keys": case_keys, "captions": case_captions, "errors": case_errors,
     "npy": case_npy}[case](b, work)


if __name__ == "__main__":
    main()
