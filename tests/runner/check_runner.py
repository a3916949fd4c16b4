# SPDX-License-Identifier: Apache-2.0
"""End-to-end checks of `groundeval run`, `merge`, `report`, `evaluate` on run output and `demo`.

usage: check_runner.py CASE GROUNDEVAL_BINARY WORK_DIR

Each case writes its own tiny SYNTHETIC data set in the Flickr30k Entities format (made-up
image ids and boxes, no images unless the case draws overlays) under WORK_DIR/CASE, except the
demo cases, which use the bundled photographs (data/demo-photos), and exits non-zero with a
message when a check fails. Standard library only.
"""
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def write_dataset(root, images=10, script_phrase=False, seed=5):
    """A synthetic data set: `images` images, 3 sentences each, 2-3 phrases per sentence."""
    rng = random.Random(seed)
    os.makedirs(os.path.join(root, "Annotations"))
    os.makedirs(os.path.join(root, "Sentences"))
    ids = []
    for i in range(images):
        iid = str(7700000 + 31 * i)
        ids.append(iid)
        w, h = rng.randint(200, 500), rng.randint(200, 400)
        objs = []
        for k in range(3):
            for _ in range(1 + (k == 1 and i % 2)):
                bw, bh = rng.randint(10, w // 2), rng.randint(10, h // 2)
                x, y = rng.randint(1, w - bw), rng.randint(1, h - bh)
                objs.append((str(500 + 10 * i + k), x, y, x + bw, y + bh))
        xml = ["<annotation>", "<filename>%s.jpg</filename>" % iid,
               "<size><width>%d</width><height>%d</height><depth>3</depth></size>" % (w, h)]
        for name, x1, y1, x2, y2 in objs:
            xml.append("<object><name>%s</name><bndbox><xmin>%d</xmin><ymin>%d</ymin>"
                       "<xmax>%d</xmax><ymax>%d</ymax></bndbox></object>" % (name, x1, y1, x2, y2))
        xml.append("</annotation>")
        with open(os.path.join(root, "Annotations", iid + ".xml"), "w") as f:
            f.write("\n".join(xml) + "\n")
        lines = []
        for s in range(3):
            a, b = rng.sample(range(3), 2)
            pa = "the <script>alert(1)</script> dog" if (script_phrase and i == 0 and s == 0) \
                else "a thing %d" % a
            # The <script> phrase also gets a type "<script>", so it reaches every table.
            ta = "<script>" if (script_phrase and i == 0 and s == 0) else "people"
            lines.append("[/EN#%d/%s %s] is near [/EN#%d/other an object %d] ."
                         % (500 + 10 * i + a, ta, pa, 500 + 10 * i + b, b))
        with open(os.path.join(root, "Sentences", iid + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(root, "test.txt"), "w") as f:
        f.write("\n".join(ids) + "\n")
    with open(os.path.join(root, "SYNTHETIC.txt"), "w") as f:
        f.write("SYNTHETIC test data written by tests/runner/check_runner.py\n")
    return ids


def ge(binary, *args, expect=0):
    p = subprocess.run([binary] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if expect is not None and p.returncode != expect:
        fail("groundeval %s exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s"
             % (" ".join(args), p.returncode, expect, p.stdout, p.stderr))
    return p


def records(path):
    """Records of a predictions.jsonl without the timing field, keyed and sorted."""
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            r = json.loads(line)
            r.pop("latency_s", None)
            key = (r["image_id"], r["sentence_id"], r["phrase_index"])
            if key in out:
                fail("%s:%d: query %s recorded twice" % (path, n, key))
            out[key] = r
    return out


def same_records(a, b):
    ra, rb = records(a), records(b)
    if ra != rb:
        only_a = sorted(set(ra) - set(rb))[:5]
        only_b = sorted(set(rb) - set(ra))[:5]
        diff = [k for k in ra if k in rb and ra[k] != rb[k]][:3]
        fail("%s and %s differ: only in first %s, only in second %s, different %s"
             % (a, b, only_a, only_b, diff))
    return len(ra)


def case_run_resume(b, w):
    spec = "flickr30k:" + os.path.join(w, "data")
    write_dataset(os.path.join(w, "data"))
    full = os.path.join(w, "full")
    ge(b, "run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", full, "--quiet")
    # A partial run, then the same command without the limit.
    part = os.path.join(w, "part")
    ge(b, "run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", part, "--limit",
       "7", "--quiet")
    n_part = len(records(os.path.join(part, "predictions.jsonl")))
    ge(b, "run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", part, "--quiet")
    n = same_records(os.path.join(full, "predictions.jsonl"), os.path.join(part, "predictions.jsonl"))
    if not 0 < n_part < n:
        fail("--limit 7 recorded %d of %d queries" % (n_part, n))
    # A crash: the last records lost and a torn last line (what kill -9 mid-write leaves).
    crash = os.path.join(w, "crash")
    shutil.copytree(full, crash)
    pp = os.path.join(crash, "predictions.jsonl")
    lines = open(pp).read().splitlines(True)
    with open(pp, "w") as f:
        f.writelines(lines[: len(lines) // 2])
        f.write(lines[len(lines) // 2][:25])  # torn: no newline
    p = ge(b, "run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", crash)
    if "incomplete last line" not in p.stderr:
        fail("the torn line was not reported:\n" + p.stderr)
    same_records(os.path.join(full, "predictions.jsonl"), pp)
    # Resuming again runs nothing.
    p = ge(b, "run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", crash)
    if "0 queries run now" not in p.stdout:
        fail("a finished run ran queries again:\n" + p.stdout)
    # A different grounder in the same directory is refused, --start-over accepts it.
    p = ge(b, "run", "--dataset", spec, "--grounder", "random:4?boxes=4", "--out", crash,
           expect=1)
    if "refusing to mix results" not in p.stderr or "grounder_spec" not in p.stderr:
        fail("a different manifest was not refused properly:\n" + p.stderr)
    ge(b, "run", "--dataset", spec, "--grounder", "random:4?boxes=4", "--out", crash,
       "--start-over", "--quiet")
    m = json.load(open(os.path.join(crash, "manifest.json")))
    for k in ("dataset", "split", "dataset_content_hash", "grounder_spec", "grounder",
              "groundeval_version", "start_time", "end_time", "hostname"):
        if k not in m:
            fail("manifest.json lacks %s: %s" % (k, m))
    if m["grounder_spec"] != "random:4?boxes=4" or m["status"] != "complete":
        fail("unexpected manifest %s" % m)
    if m.get("latency") != "in-process":
        fail("a baseline's manifest latency: %r (expected 'in-process')" % m.get("latency"))
    # A run directory made before the "latency" key existed resumes, and gets the key.
    del m["latency"]
    json.dump(m, open(os.path.join(crash, "manifest.json"), "w"))
    ge(b, "run", "--dataset", spec, "--grounder", "random:4?boxes=4", "--out", crash, "--quiet")
    if json.load(open(os.path.join(crash, "manifest.json"))).get("latency") != "in-process":
        fail("an older run resumed without getting the manifest key latency")
    # Sampling: the option `stats` has too (--sample N [--sample-by image|phrase] [--seed S]);
    # the selection is recorded and `report` evaluates the run on the same sample.
    for by, n, want in (("image", "3", "images=3 seed=2"), ("phrase", "5", "phrases=5 seed=2")):
        out = os.path.join(w, "sample-" + by)
        ge(b, "run", "--dataset", spec, "--grounder", "whole-image", "--out", out, "--sample", n,
           "--sample-by", by, "--seed", "2", "--quiet")
        m = json.load(open(os.path.join(out, "manifest.json")))
        if m["selection"] != want:
            fail("--sample %s --sample-by %s: selection %r, expected %r"
                 % (n, by, m["selection"], want))
        got = records(os.path.join(out, "predictions.jsonl"))
        images = {k[0] for k in got}
        if (by == "phrase" and len(got) != 5) or (by == "image" and len(images) != 3):
            fail("--sample %s --sample-by %s recorded %d queries on %d images"
                 % (n, by, len(got), len(images)))
        rep = os.path.join(w, "sample-report-" + by)
        p = ge(b, "report", out, "--out", rep)
        j = json.load(open(os.path.join(rep, "report.json")))
        if j["runs"][0]["phrases"] != len(got) or "no answer" in p.stdout + p.stderr:
            fail("report on a sampled run: %d phrases evaluated, %d recorded\n%s"
                 % (j["runs"][0]["phrases"], len(got), p.stdout + p.stderr))
    out = os.path.join(w, "sample-bad")
    for args, msg in ((["--seed", "1"], "run: error: --seed needs --sample"),
                      (["--sample-by", "phrase"], "run: error: --sample-by needs --sample"),
                      (["--sample", "x"], "run: error: --sample 'x' is not a non-negative integer"),
                      (["--sample", "2", "--limit", "1"], "--limit and --sample cannot be combined")):
        p = ge(b, "run", "--dataset", spec, "--grounder", "whole-image", "--out", out, *args,
               expect=1)
        if msg not in p.stderr:
            fail("run %s: expected %r in:\n%s" % (" ".join(args), msg, p.stderr))


def case_legacy_resume(b, w):
    """Run directories written by groundeval 0.1.0 at 7ad5a89 (tests/runner/fixtures) resume with
    this build and end as the old build's complete runs: same manifest identity, same records."""
    root = os.path.join(w, "data")
    write_dataset(root)
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                            "legacy-7ad5a89")
    # This build's version keys (part of a run's identity) from a fresh run.
    fresh = os.path.join(w, "fresh")
    ge(b, "run", "--dataset", "flickr30k:" + root, "--grounder", "whole-image", "--out", fresh,
       "--limit", "1", "--quiet")
    now = json.load(open(os.path.join(fresh, "manifest.json")))
    for name, args in (("run_partial", ["--grounder", "random:3?boxes=4"]),
                       ("run_shard", ["--grounder", "center:0.6", "--shard", "1/2"])):
        d = os.path.join(w, name)
        shutil.copytree(os.path.join(fixtures, name), d)
        mp = os.path.join(d, "manifest.json")
        m = json.load(open(mp))
        m["dataset"] = m["dataset"].replace("@DATA@", root)
        for k in ("groundeval_version", "groundeval_git"):
            m[k] = now[k]
        json.dump(m, open(mp, "w"), indent=2)
        before = len(records(os.path.join(d, "predictions.jsonl")))
        p = ge(b, "run", "--dataset", "flickr30k:" + root, *args, "--out", d)
        if "%d queries already recorded" % before not in p.stderr:
            fail("%s did not resume (%d records):\n%s%s" % (name, before, p.stdout, p.stderr))
        n = same_records(os.path.join(fixtures, name + ".expected.jsonl"),
                         os.path.join(d, "predictions.jsonl"))
        if n <= before:
            fail("%s: nothing was added on resume" % name)
        m2 = json.load(open(mp))
        if m2["status"] != "complete" or m2["config_hash"] != m["config_hash"]:
            fail("%s manifest after resume: %s" % (name, m2))


def case_plugin(b, w):
    """examples/06_plugin_cli: a user's grounder kind ("corner") in its own program gets the
    whole CLI: run -> kill -9 mid-run -> resume -> report; a config file; shards, merge and
    evaluate. `b` is that program, not build/bin/groundeval."""
    import signal
    import time
    root = os.path.join(w, "data")
    write_dataset(root, images=10)
    spec = "flickr30k:" + root
    p = ge(b, "run", "--help")
    if "corner[:FRACTION]" not in p.stdout or "whole-image" not in p.stdout:
        fail("run --help does not list the plugin kind next to the built-in ones:\n" + p.stdout)
    out = os.path.join(w, "run")
    pp = os.path.join(out, "predictions.jsonl")
    args = [b, "run", "--dataset", spec, "--grounder", "corner:0.5?delay_ms=40", "--out", out]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        if os.path.exists(pp) and open(pp).read().count("\n") >= 6:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # a crash, not a clean stop
    proc.communicate(timeout=30)
    n_killed = open(pp).read().count("\n")
    if json.load(open(os.path.join(out, "manifest.json")))["status"] != "running":
        fail("a killed run's manifest does not say running")
    p = ge(b, *args[1:])
    if "already recorded" not in p.stderr:
        fail("the killed run did not resume:\n" + p.stdout + p.stderr)
    got = records(pp)
    full = os.path.join(w, "full")
    ge(b, "run", "--dataset", spec, "--grounder", "corner:0.5?delay_ms=40", "--out", full,
       "--quiet")
    same_records(os.path.join(full, "predictions.jsonl"), pp)
    if not 0 < n_killed < len(got):
        fail("the kill came at %d of %d records: no resume was tested" % (n_killed, len(got)))
    m = json.load(open(os.path.join(out, "manifest.json")))
    if m["status"] != "complete" or m["grounder"] != "corner fraction=0.500000" or \
            m["latency"] != "measured":
        fail("plugin run manifest: %s" % m)
    rep = os.path.join(w, "report")
    ge(b, "report", out, "--out", rep, "--quiet")
    j = json.load(open(os.path.join(rep, "report.json")))
    if j["runs"][0]["grounder"] != "corner:0.5?delay_ms=40" or j["runs"][0]["phrases"] != len(got):
        fail("report of the plugin run: %s" % j["runs"][0])
    # A config file naming the plugin kind, shards of it, merged, evaluated like the whole run.
    conf = os.path.join(w, "corner.conf")
    with open(conf, "w") as f:
        f.write("grounder = corner\nfraction = 0.5\ndelay_ms = 40\n")
    shards = []
    for i in range(2):
        d = os.path.join(w, "s%d" % i)
        ge(b, "run", "--dataset", spec, "--grounder", "@" + conf, "--out", d, "--shard",
           "%d/2" % i, "--quiet")
        shards.append(d)
    merged = os.path.join(w, "merged")
    ge(b, "merge", *shards, "--out=" + merged)
    same_records(pp, os.path.join(merged, "predictions.jsonl"))
    ja, jb = os.path.join(w, "a.json"), os.path.join(w, "b.json")
    for src, dst in ((pp, ja), (os.path.join(merged, "predictions.jsonl"), jb)):
        ge(b, "evaluate", "--dataset=" + spec, "--predictions", src, "--json", dst, "--quiet")
    if json.load(open(ja))["recall_at"] != json.load(open(jb))["recall_at"]:
        fail("the merged shards evaluate differently from the whole run")
    p = ge(b, "run", "--dataset", spec, "--grounder", "corner:0.5?delay=1", "--out",
           os.path.join(w, "bad"), expect=1)
    if "unknown key 'delay' for corner (valid keys: delay_ms)" not in p.stderr:
        fail("plugin key checking: " + p.stderr)


def case_shard_merge(b, w):
    spec = "flickr30k:" + os.path.join(w, "data")
    write_dataset(os.path.join(w, "data"), images=14)
    single = os.path.join(w, "single")
    ge(b, "run", "--dataset", spec, "--grounder", "center:0.7", "--out", single, "--quiet")
    shards = []
    for i in range(3):
        d = os.path.join(w, "s%d" % i)
        ge(b, "run", "--dataset", spec, "--grounder", "center:0.7", "--out", d, "--shard",
           "%d/3" % i, "--quiet")
        shards.append(d)
        n = len(records(os.path.join(d, "predictions.jsonl")))
        if n == 0:
            fail("shard %d/3 is empty (14 images should spread over 3 shards)" % i)
    # A missing shard is refused.
    p = ge(b, "merge", shards[0], shards[1], "--out", os.path.join(w, "bad"), expect=1)
    if "missing shard" not in p.stderr:
        fail("merging 2 of 3 shards was not refused:\n" + p.stderr)
    merged = os.path.join(w, "merged")
    ge(b, "merge", *shards, "--out", merged)
    same_records(os.path.join(single, "predictions.jsonl"), os.path.join(merged, "predictions.jsonl"))
    # The merged run evaluates to the same numbers as the single one.
    ja, jb = os.path.join(w, "a.json"), os.path.join(w, "b.json")
    ge(b, "evaluate", "--dataset", spec, "--predictions", os.path.join(single, "predictions.jsonl"),
       "--json", ja, "--quiet")
    ge(b, "evaluate", "--dataset", spec, "--predictions", os.path.join(merged, "predictions.jsonl"),
       "--json", jb, "--quiet")
    if json.load(open(ja))["recall_at"] != json.load(open(jb))["recall_at"]:
        fail("merged and single runs evaluate differently")


def case_replay_oracle(b, w):
    root = os.path.join(w, "data")
    ids = write_dataset(root, images=5)
    spec = "flickr30k:" + root
    src = os.path.join(w, "src")
    ge(b, "run", "--dataset", spec, "--grounder", "random:9?boxes=3", "--out", src, "--quiet")
    # Replaying a run's predictions gives the same answers (latency and config hash aside).
    rep = os.path.join(w, "replay")
    ge(b, "run", "--dataset", spec, "--grounder",
       "predictions:" + os.path.join(src, "predictions.jsonl"), "--out", rep, "--quiet")
    a, r = records(os.path.join(src, "predictions.jsonl")), records(os.path.join(rep, "predictions.jsonl"))
    for d in (a, r):
        for v in d.values():
            v.pop("config_hash")
    if a != r:
        fail("the replayed run differs from its source")
    # The oracle over the ground-truth boxes of each image ranks a true box first: R@1 = 100 %.
    props = {}
    for iid in ids:
        t = open(os.path.join(root, "Annotations", iid + ".xml")).read()
        boxes = []
        for part in t.split("<bndbox>")[1:]:
            v = [int(part.split("<%s>" % k)[1].split("<")[0]) for k in ("xmin", "ymin", "xmax", "ymax")]
            boxes.append([v[0] - 1, v[1] - 1, v[2], v[3]])  # close to the GT whatever the pixel convention
        props[iid] = boxes
    pf = os.path.join(w, "proposals.json")
    json.dump(props, open(pf, "w"))
    orc = os.path.join(w, "oracle")
    ge(b, "run", "--dataset", spec, "--grounder", "oracle:" + pf, "--out", orc, "--quiet")
    jf = os.path.join(w, "oracle.json")
    ge(b, "evaluate", "--dataset", spec, "--predictions", os.path.join(orc, "predictions.jsonl"),
       "--json", jf, "--quiet")
    r1 = json.load(open(jf))["recall_at"]["1"]["all"]
    if r1 != 1.0:
        fail("oracle over the ground truth: R@1 = %r, expected 1.0" % r1)


def case_sigint(b, w):
    """Ctrl-C during an `openai:` run against a slow local fake server (it answers every request
    with the fixed text "[10, 10, 60, 60]" after 0.25 s; a test fixture, not a model)."""
    import http.server
    import signal
    import threading
    import time

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(0.25)
            body = json.dumps({"model": "fake", "choices": [
                {"message": {"content": "[10, 10, 60, 60]"}, "finish_reason": "stop"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        root = os.path.join(w, "data")
        ids = write_dataset(root, images=8)
        os.makedirs(os.path.join(root, "flickr30k-images"))
        for iid in ids:
            with open(os.path.join(root, "flickr30k-images", iid + ".jpg"), "wb") as f:
                f.write(png_bytes(64, 48))
        spec = "flickr30k:" + root
        g = "openai:http://127.0.0.1:%d/v1?model=fake&family=pixel&concurrency=1&key_env=" \
            % srv.server_address[1]
        out = os.path.join(w, "run")
        args = [b, "run", "--dataset", spec, "--grounder", g, "--out", out]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        so, se = p.communicate(timeout=60)
        if p.returncode != 130 or "interrupted" not in se or "resume" not in se:
            fail("SIGINT: exit %d, stderr:\n%s" % (p.returncode, se))
        m = json.load(open(os.path.join(out, "manifest.json")))
        n1 = len(records(os.path.join(out, "predictions.jsonl")))
        if m.get("server_model") != "fake":
            fail("manifest server_model: %r" % m.get("server_model"))
        if m["status"] != "interrupted" or not 0 < n1 < 48:
            fail("after SIGINT: status %s, %d of 48 queries recorded" % (m["status"], n1))
        # Resuming with another concurrency is the same run (it does not change answers).
        p = ge(b, *args[1:], "--quiet", "--concurrency", "3")
        r = records(os.path.join(out, "predictions.jsonl"))
        if len(r) != 48 or any(v["status"] != "ok" for v in r.values()):
            fail("the resumed run has %d records (48 expected) or failed answers" % len(r))
        # A server's round trips are a measurement: the report shows them.
        if json.load(open(os.path.join(out, "manifest.json"))).get("latency") != "measured":
            fail("openai run manifest latency is not 'measured'")
        rep = os.path.join(w, "report")
        ge(b, "report", out, "--out", rep, "--quiet")
        lat = json.load(open(os.path.join(rep, "report.json")))["runs"][0]
        if lat.get("in_process") or not lat["latency"] or lat["latency"]["mean_s"] < 0.2:
            fail("openai run in the report: in_process %r, latency %r"
                 % (lat.get("in_process"), lat["latency"]))
    finally:
        srv.shutdown()


def case_unknown_key(b, w):
    spec = "flickr30k:" + os.path.join(w, "data")
    write_dataset(os.path.join(w, "data"), images=2)
    out = os.path.join(w, "r")
    p = ge(b, "run", "--dataset", spec, "--grounder", "random:1?box=3", "--out", out, expect=1)
    if "unknown key 'box'" not in p.stderr or "valid keys: boxes" not in p.stderr:
        fail("unknown key message: " + p.stderr)
    p = ge(b, "run", "--dataset", spec, "--grounder", "nonsense", "--out", out, expect=1)
    if "valid: whole-image, center, random, oracle, predictions, openai, npy-detector" \
            not in p.stderr:
        fail("unknown grounder message: " + p.stderr)
    p = ge(b, "run", "--dataset", spec, "--grounder", "center:1.5", "--out", out, expect=1)
    if "(0, 1]" not in p.stderr:
        fail("bad fraction message: " + p.stderr)
    p = ge(b, "run", "--dataset", spec, "--grounder", "openai:http://127.0.0.1:9/v1?model=m&tempo=1",
           "--out", out, expect=1)
    if "unknown key 'tempo'" not in p.stderr or "temperature" not in p.stderr:
        fail("openai unknown key message: " + p.stderr)
    p = ge(b, "run", "--dataset", spec, "--grounder", "npy-detector:x.txt?preset=foo", "--out",
           out, expect=1)
    if "mdetr, glip, grounding-dino" not in p.stderr:
        fail("npy preset message: " + p.stderr)
    # the family's geometry keys are part of the openai spec, validated by the contract
    p = ge(b, "run", "--dataset", spec, "--grounder",
           "openai:http://127.0.0.1:9/v1?model=m&family=llava&frame=bogus", "--out", out, expect=1)
    if "invalid value 'bogus' for frame; valid: padded, original" not in p.stderr:
        fail("openai geometry value message: " + p.stderr)
    p = ge(b, "run", "--dataset", spec, "--grounder",
           "openai:http://127.0.0.1:9/v1?model=m&family=qwen2.5-vl&frame=padded", "--out", out,
           expect=1)
    if "unknown key 'frame'" not in p.stderr or "min_pixels, max_pixels" not in p.stderr:
        fail("openai geometry key message: " + p.stderr)


def png_bytes(width, height):
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            row += bytes([(x * 255) // max(1, width - 1), (y * 255) // max(1, height - 1), 90])
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def case_report(b, w):
    root = os.path.join(w, "data")
    ids = write_dataset(root, images=6, script_phrase=True)
    spec = "flickr30k:" + root
    ra, rb = os.path.join(w, "center"), os.path.join(w, "random")
    ge(b, "run", "--dataset", spec, "--grounder", "center:0.5", "--out", ra, "--quiet")
    ge(b, "run", "--dataset", spec, "--grounder", "random:2?boxes=5", "--out", rb, "--quiet")
    # evaluate reads run output as it is.
    p = ge(b, "evaluate", "--dataset", spec, "--predictions", os.path.join(ra, "predictions.jsonl"))
    if "evaluated: 6 images, 18 sentences, 36 phrases" not in p.stdout:
        fail("evaluate on run output: " + p.stdout)
    rep = os.path.join(w, "report")
    p = ge(b, "report", ra, rb, "--out", rep)
    html = open(os.path.join(rep, "index.html")).read()
    if "<script" in html:
        fail("a '<script>' string from the data set is not escaped in index.html")
    if "&lt;script&gt;" not in html:
        fail("the '<script>' type is missing from index.html (expected as escaped text)")
    if "<script>" in open(os.path.join(rep, "report.md")).read():
        fail("a '<script>' string from the data set is not escaped in report.md")
    if "SYNTHETIC" not in html or "without an overlay" not in html:
        fail("index.html does not say the data is synthetic / the overlays are missing")
    j = json.load(open(os.path.join(rep, "report.json")))
    if [r["name"] for r in j["runs"]] != ["center", "random"] or len(j["pairs"]) != 1:
        fail("report.json runs/pairs: %s" % [r.get("name") for r in j["runs"]])
    md = open(os.path.join(rep, "report.md")).read()
    if "center" not in md or "random" not in md:
        fail("report.md lacks the runs")
    # Baselines answer in-process: no latency or queries per second is shown for them.
    if any(not r.get("in_process") or r["latency"] is not None for r in j["runs"]):
        fail("report.json shows a baseline's latency: %s"
             % [(r.get("in_process"), r["latency"]) for r in j["runs"]])
    if md.count("| — (in-process) | — | — | — |") != 2 or "(in-process)</td>" not in html:
        fail("the report does not mark the baselines' latency as in-process")
    # A format failure's case shows the raw answer the run recorded, escaped.
    rf = os.path.join(w, "failing")
    shutil.copytree(rb, rf)
    pred = os.path.join(rf, "predictions.jsonl")
    lines = open(pred).read().splitlines()
    with open(pred, "w") as f:
        for n, line in enumerate(lines):
            r = json.loads(line)
            if n % 3 == 0:
                r.update(boxes=[], scores=[], status="format_failure", message="unclosed <box>",
                         raw_text="<ref>it</ref><box>(1,2),(3 | *x*")
            f.write(json.dumps(r) + "\n")
    rep3 = os.path.join(w, "report-failing")
    ge(b, "report", ra, rf, "--out", rep3, "--quiet")
    html = open(os.path.join(rep3, "index.html")).read()
    md = open(os.path.join(rep3, "report.md")).read()
    j = json.load(open(os.path.join(rep3, "report.json")))
    failing = [c for c in j["cases"] if c["category"] == "format_failure"]
    if not failing or any(c["raw_answers"] != {"failing": "<ref>it</ref><box>(1,2),(3 | *x*"}
                          for c in failing):
        fail("format-failure cases without the raw answer: %s" % failing[:2])
    if "failing answered:</span> <code>&lt;ref&gt;it&lt;/ref&gt;&lt;box&gt;(1,2),(3 | *x*</code>" \
            not in html or "<box>" in html:
        fail("index.html does not show the escaped raw answer of a format failure")
    if "failing answered: &lt;ref&gt;it&lt;/ref&gt;&lt;box&gt;(1,2),(3 \\| \\*x\\*" not in md:
        fail("report.md does not show the escaped raw answer of a format failure")
    if "R@-1" in html + md or "p = <" in md or "p = &lt;" in html:
        fail("the paired tables print R@-1 or 'p = <'")
    # With images on disk (PNG data in .jpg files; the decoder reads the content), the cases are
    # drawn, when the DejaVu font is installed.
    font = os.environ.get("GROUNDEVAL_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not os.path.exists(font):
        print("note: %s missing, overlay check skipped" % font)
        return
    os.makedirs(os.path.join(root, "flickr30k-images"))
    for iid in ids:
        with open(os.path.join(root, "Annotations", iid + ".xml")) as f:
            t = f.read()
        wd = int(t.split("<width>")[1].split("<")[0])
        ht = int(t.split("<height>")[1].split("<")[0])
        with open(os.path.join(root, "flickr30k-images", iid + ".jpg"), "wb") as f:
            f.write(png_bytes(wd, ht))
    rep2 = os.path.join(w, "report2")
    p = ge(b, "report", ra, rb, "--out", rep2)
    cases = os.path.join(rep2, "cases")
    pngs = os.listdir(cases) if os.path.isdir(cases) else []
    if not pngs or any(not open(os.path.join(cases, f), "rb").read(8).startswith(b"\x89PNG")
                       for f in pngs):
        fail("no PNG overlays drawn with images present:\n" + p.stdout)
    if 'src="cases/' not in open(os.path.join(rep2, "index.html")).read():
        fail("index.html does not show the overlays")


def case_demo(b, w):
    out = os.path.join(w, "demo")
    p = ge(b, "demo", "--out", out)
    for s in ("SYNTHETIC", "real photographs", "annotated by hand", "whole-image", "center",
              "random", "synthetic-replay", "report/index.html"):
        if s not in p.stdout:
            fail("demo output lacks %r:\n%s" % (s, p.stdout))
    if not os.path.exists(os.path.join(out, "report", "index.html")):
        fail("the demo wrote no report")
    # The bundled photographs: images on disk for every annotated image, with recorded licences.
    photos = os.path.join(out, "photos")
    ids = [l.strip() for l in open(os.path.join(photos, "test.txt")) if l.strip()]
    if len(ids) < 6:
        fail("the demo data set has %d images" % len(ids))
    for iid in ids:
        jpg = os.path.join(photos, "flickr30k-images", iid + ".jpg")
        if not os.path.exists(jpg) or open(jpg, "rb").read(2) != b"\xff\xd8":
            fail("no JPEG image for %s in the demo data" % iid)
        if os.path.getsize(jpg) > 120 * 1024:
            fail("%s is %d bytes (the demo images are kept small)" % (jpg, os.path.getsize(jpg)))
    readme = open(os.path.join(photos, "README.md")).read()
    for iid in ids:
        if "| %s |" % iid not in readme:
            fail("data/demo-photos/README.md records no licence for %s" % iid)
    if "not part of flickr30k entities" not in readme.lower():
        fail("the demo data README does not say the annotations are not Flickr30k Entities'")
    # The replayed predictions say they are synthetic, record by record, and in the report.
    replay = os.path.join(out, "synthetic-replay.jsonl")
    recs = [json.loads(l) for l in open(replay) if l.strip()]
    if not recs or any("SYNTHETIC" not in r.get("raw_text", "") for r in recs):
        fail("synthetic-replay.jsonl records do not all say SYNTHETIC")
    j1 = json.load(open(os.path.join(out, "report", "report.json")))
    names = [r["name"] for r in j1["runs"]]
    if names != ["whole-image", "center", "random", "synthetic-replay"]:
        fail("demo runs: %s" % names)
    html = open(os.path.join(out, "report", "index.html")).read()
    if "SYNTHETIC predictions" not in html or "no number here is a real model" not in html:
        fail("the demo report does not say the replay is synthetic")
    # The replay (perturbed ground truth) beats the baselines at R@1, the baselines do not reach it.
    r1 = {r["name"]: r["overall"]["recall_at_1"] for r in j1["runs"]}
    if not r1["synthetic-replay"] > max(r1["whole-image"], r1["center"], r1["random"]):
        fail("unexpected demo R@1: %s" % r1)
    font = os.environ.get("GROUNDEVAL_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if os.path.exists(font):
        cases = os.path.join(out, "report", "cases")
        if not os.path.isdir(cases) or not os.listdir(cases):
            fail("the demo drew no overlays:\n" + p.stdout)
        if "blank canvas" in html or "without an overlay" in html:
            fail("the demo report has cases without their photograph")
    # Run twice: the same numbers (nothing random about it).
    ge(b, "demo", "--out", out)
    j2 = json.load(open(os.path.join(out, "report", "report.json")))
    if [r["overall"] for r in j1["runs"]] != [r["overall"] for r in j2["runs"]]:
        fail("the demo's numbers changed between two runs")


def case_lock(b, w):
    """One writer per run directory: a held lock refuses a second writer (with --start-over
    too) naming the holder; a lock file left by a dead process blocks nothing; two identical
    runs started together, and runs killed with SIGKILL at random moments, never record a query
    twice or leave a directory that does not resume."""
    import fcntl
    import signal
    import time
    root = os.path.join(w, "data")
    write_dataset(root, images=300)
    spec = "flickr30k:" + root
    out = os.path.join(w, "r")
    args = ["run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", out, "--quiet"]
    ge(b, *args, "--limit", "5")
    before = open(os.path.join(out, "predictions.jsonl")).read()
    fd = os.open(os.path.join(out, ".lock"), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.ftruncate(fd, 0)
    os.write(fd, b"pid 4242\nhost elsewhere\nsince 2024-01-01T00:00:00Z\ncommand groundeval run A\n")
    for extra in ([], ["--start-over"], ["--retry-errors"]):
        p = ge(b, *args, *extra, expect=1)
        want = "%s: is in use by another groundeval process (pid 4242 on elsewhere since " \
               "2024-01-01T00:00:00Z: groundeval run A); wait for it to end or choose another " \
               "directory" % out
        if want not in p.stderr:
            fail("a second writer %s was not refused with the holder named:\n%s" % (extra, p.stderr))
    p = ge(b, "merge", out, "--out", os.path.join(w, "m"), "--no-check", expect=1)
    if "is in use by another groundeval process" not in p.stderr:
        fail("merge read a shard that is being written:\n" + p.stderr)
    os.close(fd)  # the holder is gone: its lock file stays and blocks nothing
    if open(os.path.join(out, "predictions.jsonl")).read() != before:
        fail("the refused writers changed predictions.jsonl")
    ge(b, *args)
    total = len(records(os.path.join(out, "predictions.jsonl")))
    # Two identical runs at once, 8 times: one runs, the other is refused or finds it done.
    races = 0
    for i in range(8):
        d = os.path.join(w, "race%d" % i)
        a = ["run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", d, "--quiet"]
        ps = [subprocess.Popen([b] + a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
        res = [(p.wait(), p.stderr.read()) for p in ps]
        for rc, err in res:
            if rc != 0 and "is in use by another groundeval process" not in err:
                fail("race %d: exit %d:\n%s" % (i, rc, err))
        races += sum(rc != 0 for rc, _ in res)
        if len(records(os.path.join(d, "predictions.jsonl"))) != total:
            fail("race %d: the two runs left a wrong number of records" % i)
    print("races where the second writer was refused: %d of 8" % races)
    # SIGKILL at random moments of two concurrent runs into one directory, then resume (issue
    # 15's acceptance: 50 rounds; GROUNDEVAL_KILL_ROUNDS sets another count). In about a third
    # of the rounds the second run has another configuration (another seed): it must never
    # write into the first one's directory.
    rounds = int(os.environ.get("GROUNDEVAL_KILL_ROUNDS", "50"))
    rng = random.Random(11)
    d = os.path.join(w, "killed")
    a = ["run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", d, "--quiet",
         "--concurrency", "1"]
    other = ["run", "--dataset", spec, "--grounder", "random:4?boxes=4", "--out", d, "--quiet",
             "--concurrency", "1"]
    started = time.monotonic()
    mixed = 0
    for i in range(rounds):
        # (only once the directory holds the first run's manifest: it is that run's directory)
        own = os.path.exists(os.path.join(d, "manifest.json"))
        second = other if rng.random() < 0.35 and own else a
        mixed += second is other
        ps = [subprocess.Popen([b] + args_, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
              for args_ in (a, second)]
        time.sleep(rng.uniform(0, 0.15))
        for p in ps:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            p.wait()
        pp = os.path.join(d, "predictions.jsonl")
        if os.path.exists(pp):
            text = open(pp).read()
            hashes = {json.load(open(os.path.join(d, "manifest.json")))["config_hash"]}
            complete = text[:text.rfind("\n") + 1]  # a torn last line is the resume's to cut
            seen = set()
            for n, line in enumerate(complete.splitlines(), 1):
                if not line.strip():
                    continue
                r = json.loads(line)
                key = (r["image_id"], r["sentence_id"], r["phrase_index"])
                if key in seen:
                    fail("kill round %d: %s:%d: query %s recorded twice" % (i, pp, n, key))
                seen.add(key)
                if r.get("config_hash") not in hashes:
                    fail("kill round %d: %s:%d: a record of another configuration" % (i, pp, n))
    ge(b, *a)
    if len(records(os.path.join(d, "predictions.jsonl"))) != total:
        fail("after the kills the resumed run is not complete")
    m = json.load(open(os.path.join(d, "manifest.json")))
    if m["status"] != "complete":
        fail("after the kills: status %s" % m["status"])
    if {r["config_hash"] for r in records(os.path.join(d, "predictions.jsonl")).values()} != \
            {m["config_hash"]}:
        fail("after the kills: records of another configuration")
    print("kill -9 rounds: %d (%d with another configuration as the second run), %.1f s"
          % (rounds, mixed, time.monotonic() - started))


def case_config_hash(b, w):
    """A record of another configuration in a run directory is an error with FILE:LINE on
    resume, evaluate, report and merge, never credited to the run."""
    root = os.path.join(w, "data")
    write_dataset(root, images=6)
    spec = "flickr30k:" + root
    out = os.path.join(w, "r")
    ge(b, "run", "--dataset", spec, "--grounder", "center:0.5", "--out", out, "--quiet",
       "--shard", "0/1")
    other = os.path.join(w, "other")
    ge(b, "run", "--dataset", spec, "--grounder", "whole-image", "--out", other, "--quiet")
    pp = os.path.join(out, "predictions.jsonl")
    lines = open(pp).read().splitlines(True)
    foreign = open(os.path.join(other, "predictions.jsonl")).read().splitlines(True)
    lines[3] = foreign[3]  # the same query, answered by another grounder
    open(pp, "w").write("".join(lines))
    want = "%s:4: this record was made by another configuration (config_hash '%s', the run's " \
           "manifest.json says '%s')" % (pp, json.loads(foreign[3])["config_hash"],
                                        json.load(open(os.path.join(out, "manifest.json")))["config_hash"])
    for args in (["run", "--dataset", spec, "--grounder", "center:0.5", "--out", out,
                  "--shard", "0/1"],
                 ["evaluate", "--dataset", spec, "--predictions", pp],
                 ["report", out, "--out", os.path.join(w, "rep")],
                 ["merge", out, "--out", os.path.join(w, "merged")]):
        p = ge(b, *args, expect=1)
        if want not in p.stderr:
            fail("%s credited a record of another configuration:\n%s" % (args[0], p.stderr))


def case_demo_out(b, w):
    """`demo --out DIR` refuses a non-empty folder it did not write, deleting nothing, and
    reruns into its own (marked) output."""
    mine = os.path.join(w, "mine")
    for sub in ("photos", "report"):
        os.makedirs(os.path.join(mine, sub))
        open(os.path.join(mine, sub, "keep.txt"), "w").write("the user's file\n")
    p = ge(b, "demo", "--out", mine, expect=1)
    want = "%s: is not empty and was not written by groundeval demo (no .groundeval-demo in " \
           "it); choose a new or empty directory, nothing was changed" % mine
    if want not in p.stderr:
        fail("demo into a user's folder was not refused:\n" + p.stderr)
    if sorted(os.listdir(mine)) != ["photos", "report"] or \
            not os.path.exists(os.path.join(mine, "photos", "keep.txt")):
        fail("demo changed a folder it refused: %s" % os.listdir(mine))
    empty = os.path.join(w, "empty")
    os.makedirs(empty)
    ge(b, "demo", "--out", empty)
    if not os.path.exists(os.path.join(empty, ".groundeval-demo")):
        fail("the demo did not mark its output folder")
    ge(b, "demo", "--out", empty)  # its own folder: replaced


def case_retry_errors(b, w):
    """`run --retry-errors` asks again exactly the queries recorded as errors; the other answers
    stay, the error records move to retried-errors.jsonl, the file keeps one record per query."""
    root = os.path.join(w, "data")
    write_dataset(root, images=6)
    spec = "flickr30k:" + root
    out = os.path.join(w, "r")
    args = ["run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", out, "--quiet"]
    ge(b, *args)
    pp = os.path.join(out, "predictions.jsonl")
    good = records(pp)
    lines = open(pp).read().splitlines(True)
    broken = {}
    for i in (2, 7, 11):
        r = json.loads(lines[i])
        r.update(status="error", boxes=[], message="HTTP 503 (after 6 attempts)")
        lines[i] = json.dumps(r, separators=(",", ":")) + "\n"
        broken[(r["image_id"], r["sentence_id"], r["phrase_index"])] = r
    open(pp, "w").write("".join(lines))
    p = ge(b, *args[:-1])
    if "0 queries run now" not in p.stdout:
        fail("a plain rerun asked recorded errors again:\n" + p.stdout)
    p = ge(b, *args[:-1], "--retry-errors")
    if "3 error records moved to" not in p.stdout or "3 queries run now" not in p.stdout:
        fail("--retry-errors did not ask the 3 errors again:\n" + p.stdout)
    if records(pp) != good:  # the same seeded answers, one record per query
        fail("after --retry-errors the records differ from an error-free run")
    moved = records(os.path.join(out, "retried-errors.jsonl"))
    if set(moved) != set(broken):
        fail("retried-errors.jsonl holds %s" % sorted(moved))
    p = ge(b, *args[:-1], "--retry-errors", "--start-over", expect=1)
    if "--start-over and --retry-errors cannot be combined" not in p.stderr:
        fail(p.stderr)


def case_no_phrases(b, w):
    """A data set with no evaluable phrase is an error for run and evaluate, not 'evaluated: 0
    phrases' with NaN metrics; a write error on stdout fails the command."""
    root = os.path.join(w, "data")
    write_dataset(root, images=2)
    for f in os.listdir(os.path.join(root, "Sentences")):  # chain ids disjoint from the boxes'
        p = os.path.join(root, "Sentences", f)
        open(p, "w").write(open(p).read().replace("[/EN#5", "[/EN#9"))
    spec = "flickr30k:" + root
    want = "%s: the data set has no evaluable phrase (no phrase whose chain has a ground-truth " \
           "box): nothing to run or evaluate" % spec
    out = os.path.join(w, "r")
    p = ge(b, "run", "--dataset", spec, "--grounder", "center", "--out", out, expect=1)
    if want not in p.stderr or os.path.exists(out):
        fail("run on a data set without evaluable phrases:\n" + p.stderr)
    empty = os.path.join(w, "p.jsonl")
    open(empty, "w").write('{"image_id":"x","sentence_id":0,"phrase_index":0,"boxes":[],'
                           '"status":"empty"}\n')
    p = ge(b, "evaluate", "--dataset", spec, "--predictions", empty, expect=1)
    if want not in p.stderr:
        fail("evaluate on a data set without evaluable phrases:\n" + p.stderr)
    good = os.path.join(w, "good")
    write_dataset(good, images=2)
    ge(b, "run", "--dataset", "flickr30k:" + good, "--grounder", "center", "--out", out, "--quiet")
    if os.path.exists("/dev/full"):
        for args in (["evaluate", "--dataset", "flickr30k:" + good, "--predictions",
                      os.path.join(out, "predictions.jsonl")], ["version"]):
            with open("/dev/full", "w") as full:
                p = subprocess.run([b] + args, stdout=full, stderr=subprocess.PIPE, text=True)
            if p.returncode != 1 or "<stdout>: write error: No space left on device" not in p.stderr:
                fail("%s > /dev/full: exit %d, %s" % (args[0], p.returncode, p.stderr))


def case_config(b, w):
    """--grounder @FILE: the same spec vocabulary as the command line, errors with FILE:LINE."""
    root = os.path.join(w, "data")
    write_dataset(root, images=4)
    spec = "flickr30k:" + root

    def conf(name, text):
        path = os.path.join(w, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    good = conf("random.conf", "# a comment\n\ngrounder = random\n  seed = 3   \nboxes=4\n")
    a, c = os.path.join(w, "cmdline"), os.path.join(w, "file")
    ge(b, "run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", a, "--quiet")
    ge(b, "run", "--dataset", spec, "--grounder", "@" + good, "--out", c, "--quiet", "--limit", "3")
    m = json.load(open(os.path.join(c, "manifest.json")))
    if m.get("grounder_spec") != "random:3?boxes=4" or m.get("grounder_config") != good:
        fail("manifest of a config-file run: %s" % m)
    # Resuming the file's run from the equivalent command line is the same run.
    p = ge(b, "run", "--dataset", spec, "--grounder", "random:3?boxes=4", "--out", c)
    if "already recorded" not in p.stderr + p.stdout:
        fail("the command-line form did not resume the config-file run:\n" + p.stderr)
    same_records(os.path.join(a, "predictions.jsonl"), os.path.join(c, "predictions.jsonl"))
    if "grounder_config" in json.load(open(os.path.join(c, "manifest.json"))):
        fail("grounder_config kept after resuming from the command line")
    # Keys in another order are the same spec (the manifest sorts them).
    g2 = conf("random2.conf", "boxes = 4\ngrounder = random\nseed = 3\n")
    p = ge(b, "run", "--dataset", spec, "--grounder", "@" + g2, "--out", c)
    if "0 queries run now" not in p.stdout:
        fail("the same spec with keys in another order did not resume:\n" + p.stdout + p.stderr)
    # Values are literal: '&', '=' and '#' inside a value reach the grounder (here the replay
    # file name), and quotes keep outer spaces.
    odd = os.path.join(w, "a&b=c #1.jsonl")
    shutil.copy(os.path.join(a, "predictions.jsonl"), odd)
    rep = conf("replay.conf", 'grounder = predictions\nfile = "%s"\n' % odd)
    r = os.path.join(w, "replay")
    ge(b, "run", "--dataset", spec, "--grounder", "@" + rep, "--out", r, "--quiet")
    if len(records(os.path.join(r, "predictions.jsonl"))) != len(records(odd)):
        fail("replay through a config file lost records")
    # Errors name the file and the line.
    out = os.path.join(w, "bad")
    cases = [
        ("grounder = random\nseed = 1\nbox = 3\n", ":3: unknown key 'box' for random",
         "valid keys: grounder, seed, boxes"),
        ("grounder = random\nboxes = 2\nboxes = 3\n", ":3: key 'boxes' given twice",
         "first on line 2"),
        ("grounder = center\nverbose\n", ":2: expected KEY = VALUE", "verbose"),
        ("grounder = center\nfraction = big\n", ":2: fraction 'big' is not a number", ""),
        ("grounder = center\n\nfraction = 1.5\n", ":3: the fraction must be in (0, 1]", ""),
        ("seed = 1\n", "no 'grounder = KIND' line", "whole-image, center, random"),
        ("# x\ngrounder = nonsense\n", ":2: unknown grounder 'nonsense'", "npy-detector"),
        ("grounder = openai\nurl = http://127.0.0.1:9/v1\nmodel = m\ntempo = 1\n",
         ":4: unknown key 'tempo' for openai", "temperature"),
        ("grounder = openai\nurl = http://127.0.0.1:9/v1\nmodel = m\nfamily = qwen2.5-vl\n"
         "frame = padded\n", ":5: unknown key 'frame'", "min_pixels, max_pixels"),
        ("grounder = oracle\n", "oracle needs a proposals file", "proposals = ..."),
        ("grounder = npy-detector\nmanifest = x.txt\npreset = foo\n", ":3:",
         "mdetr, glip, grounding-dino"),
    ]
    for n, (text, want, also) in enumerate(cases):
        f = conf("bad%d.conf" % n, text)
        p = ge(b, "run", "--dataset", spec, "--grounder", "@" + f, "--out", out, expect=1)
        if f + want not in p.stderr and (want.startswith(":") or want not in p.stderr):
            fail("config error %d: expected %r in:\n%s" % (n, f + want, p.stderr))
        if also not in p.stderr:
            fail("config error %d: expected %r in:\n%s" % (n, also, p.stderr))
    p = ge(b, "run", "--dataset", spec, "--grounder", "@" + os.path.join(w, "missing.conf"),
           "--out", out, expect=1)
    if "missing.conf: cannot read the grounder config file (No such file or directory)" \
            not in p.stderr:
        fail("missing config file message: " + p.stderr)


def case_screenshot(b, w):
    """The demo report opens in headless Chromium and the screenshot is not blank
    (scripts/screenshot_report.sh does the check)."""
    out = os.path.join(w, "demo")
    ge(b, "demo", "--out", out)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                          "screenshot_report.sh")
    p = subprocess.run(["bash", script, os.path.join(out, "report"), os.path.join(w, "shot.png")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240)
    if p.returncode != 0:
        fail("screenshot_report.sh failed:\n" + p.stdout)
    print(p.stdout.strip())


def case_reorder(b, w):
    """Resume is tolerant of a reordered split list (issue 15, finding 13): records are matched
    by key, not position, so a run stopped by --limit resumes on the list in another order and
    ends with the records of an uninterrupted run."""
    root = os.path.join(w, "data")
    ids = write_dataset(root, images=9)
    out, single = os.path.join(w, "r"), os.path.join(w, "single")

    def run(where, *extra, expect=0):
        return ge(b, "run", "--dataset", "flickr30k:" + root, "--grounder", "random:2?boxes=3",
                  "--out", where, "--quiet", *extra, expect=expect)

    def split(order):
        with open(os.path.join(root, "test.txt"), "w") as f:
            f.write("".join(i + "\n" for i in order))
    run(single)
    run(out, "--limit", "4")
    split(reversed(ids))  # the same ids, another order
    run(out)
    same_records(os.path.join(single, "predictions.jsonl"), os.path.join(out, "predictions.jsonl"))
    if json.load(open(os.path.join(out, "manifest.json")))["status"] != "complete":
        fail("the resumed run on the reordered list is not complete")
    # The same samples in another order are the same data: report and merge do not warn.
    rep = os.path.join(w, "report")
    p = ge(b, "report", out, "--out", rep)
    texts = [p.stdout, p.stderr] + [open(os.path.join(rep, n), errors="replace").read()
                                    for n in os.listdir(rep) if n.endswith((".md", ".json"))]
    if any("content hash" in t for t in texts):
        fail("report warns about the reordered (same) data")
    split(ids[1:])  # other data (an image left out) is still refused
    p = run(out, expect=1)
    if "differs from the stored one in dataset_content_hash" not in p.stderr:
        fail("a run on other data resumed:\n" + p.stderr)


def case_pipes(b, w):
    """Predictions from a pipe (`<(zcat p.jsonl.gz)`, `/dev/stdin`) are read as a stream and
    evaluate like the file; a directory, a FIFO nobody writes to and MDETR JSON from a pipe are
    errors that say so (issue 15, finding 12; docs/robustness.md R98), never a hang."""
    import gzip
    import shutil
    import time
    root = os.path.join(w, "data")
    write_dataset(root, images=8)
    spec = "flickr30k:" + root
    out = os.path.join(w, "r")
    ge(b, "run", "--dataset", spec, "--grounder", "random:5?boxes=3", "--out", out, "--quiet")
    pp = os.path.join(out, "predictions.jsonl")
    gz = os.path.join(w, "p.jsonl.gz")
    with open(pp, "rb") as f, gzip.open(gz, "wb") as g:
        shutil.copyfileobj(f, g)
    js = os.path.join(w, "e.json")
    base = ["evaluate", "--dataset", spec, "--json", js, "--quiet"]

    def recall():
        r = json.load(open(js))["recall_at"]
        os.remove(js)
        return r
    ge(b, *base, "--predictions", pp)
    want = recall()
    if shutil.which("bash") and shutil.which("zcat"):
        cmd = " ".join("'%s'" % a for a in [b] + base) + " --predictions <(zcat '%s')" % gz
        p = subprocess.run(["bash", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        if p.returncode != 0 or recall() != want:
            fail("evaluate --predictions <(zcat p.jsonl.gz):\n" + p.stderr)
    p = subprocess.run([b] + base + ["--predictions", "/dev/stdin"], input=open(pp).read(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0 or recall() != want:
        fail("evaluate --predictions /dev/stdin from a pipe:\n" + p.stderr)
    p = ge(b, *base, "--predictions", out, expect=1)
    if "%s: is a directory, not a predictions file" % out not in p.stderr:
        fail("a directory as --predictions:\n" + p.stderr)
    fifo = os.path.join(w, "fifo.jsonl")
    os.mkfifo(fifo)
    t0 = time.monotonic()
    p = ge(b, *base, "--predictions", fifo, expect=1)
    if "a pipe or FIFO with nothing written to it" not in p.stderr or time.monotonic() - t0 > 30:
        fail("a FIFO nobody writes to:\n" + p.stderr)
    mdetr = '[{"image_id": "1", "sentence_id": 0, "boxes": []}]'
    p = subprocess.run([b] + base + ["--predictions", "/dev/stdin"], input=mdetr,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 1 or "MDETR JSON predictions cannot be read from a pipe" not in p.stderr:
        fail("MDETR JSON from a pipe:\n" + p.stderr)


def main():
    case, binary, work = sys.argv[1], sys.argv[2], sys.argv[3]
    w = os.path.join(work, case)
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    {"run_resume": case_run_resume, "legacy_resume": case_legacy_resume, "plugin": case_plugin, "shard_merge": case_shard_merge,
     "unknown_key": case_unknown_key, "config": case_config,
     "replay_oracle": case_replay_oracle, "sigint": case_sigint,
     "screenshot": case_screenshot, "report": case_report, "demo": case_demo,
     "lock": case_lock, "config_hash": case_config_hash, "demo_out": case_demo_out,
     "retry_errors": case_retry_errors, "no_phrases": case_no_phrases,
     "pipes": case_pipes, "reorder": case_reorder}[case](binary, w)
    print("ok: " + case)


if __name__ == "__main__":
    main()
