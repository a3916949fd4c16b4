# SPDX-License-Identifier: Apache-2.0
"""End-to-end checks of the openai grounder through the command line (`groundeval run`, `probe`,
`evaluate`, `report`) against a local fake OpenAI-compatible server (Python's http.server on
127.0.0.1). The fake answers fixed texts; it is a test fixture, not a model.

  secrets      the server echoes the API key in every answer, in the model name, in error
               bodies and in its model list: the key is in no file the run, the answer cache,
               evaluate and report write, and in no output of any command (issue 15 row 8)
  credentials  a URL with user:password@ is refused before anything runs; the password is in no
               output and no file (row 6)
  down         the server is down: `run` stops at once with an error naming the URL and records
               nothing; once it is up, the same command runs the whole split (row 7)
  unreachable  the server stops answering mid-run: `run` stops after max_unreachable queries
               in a row without a response, records no query it did not ask, and the same
               command completes the run once the server is back (row 7; the failures of the
               outage stay recorded as errors)
  oversize     an answer of 2 MiB is recorded as an error with its first 1 MiB, and `evaluate`
               reads the run (row 5)

usage: check_http_cli.py CASE GROUNDEVAL_BINARY WORK_DIR
The data set is SYNTHETIC (made-up image ids, sentences and boxes). Standard library only.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time

from check_probe import png  # same folder: the script's own directory is on sys.path

KEY = "sk-e2e-9c41d7a05b3f48e2a17d6c0b85e2f913"
KEY_ENV = "GROUNDEVAL_E2E_KEY"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def write_dataset(root, images=3):
    """SYNTHETIC: `images` images (PNGs named .jpg), one sentence of two phrases each."""
    for d in ("Annotations", "Sentences", "flickr30k-images"):
        os.makedirs(os.path.join(root, d))
    ids = [str(9900100 + i) for i in range(images)]
    for n, iid in enumerate(ids):
        with open(os.path.join(root, "Annotations", iid + ".xml"), "w") as f:
            f.write("<annotation><filename>%s.jpg</filename><size><width>64</width><height>48"
                    "</height><depth>3</depth></size>" % iid
                    + "".join("<object><name>%d</name><bndbox><xmin>%d</xmin><ymin>4</ymin>"
                              "<xmax>%d</xmax><ymax>40</ymax></bndbox></object>"
                              % (10 * n + k, 2 + 20 * k, 20 + 20 * k) for k in (1, 2))
                    + "</annotation>\n")
        with open(os.path.join(root, "Sentences", iid + ".txt"), "w") as f:
            f.write("[/EN#%d/people A person] next to [/EN#%d/other a box] .\n"
                    % (10 * n + 1, 10 * n + 2))
        with open(os.path.join(root, "flickr30k-images", iid + ".jpg"), "wb") as f:
            f.write(png(64, 48, rgb=(16, 128, n % 256)))  # distinct images: distinct queries
    with open(os.path.join(root, "test.txt"), "w") as f:
        f.write("\n".join(ids) + "\n")
    return "flickr30k:" + root


class Server:
    """A fake server. `mode`: 'echo' (every text holds the Authorization header), 'plain',
    'big' (2 MiB answers). `up`: listening; `answers`: answer this many chat requests, then
    close every connection without a word (a server gone)."""

    def __init__(self, mode="plain", up=True, answers=None):
        self.mode, self.answers, self.chat_requests = mode, answers, 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def send(self, status, body, ctype="application/json"):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                auth = self.headers.get("Authorization", "")
                ids = ["fake-model"] + ([auth] if outer.mode == "echo" else [])
                self.send(200, json.dumps({"object": "list",
                                           "data": [{"id": i, "object": "model"} for i in ids]}))

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                auth = self.headers.get("Authorization", "")
                prompt = [p for p in body["messages"][0]["content"] if p["type"] == "text"][0]
                with outer.lock:
                    outer.chat_requests += 1
                    n = outer.chat_requests
                if outer.answers is not None and n > outer.answers:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if outer.mode == "echo" and "Locate a box" in prompt["text"]:
                    # an error body echoing the request headers, the key across a 200-byte cut
                    self.send(500, "." * 168 + "Authorization: " + auth, "text/plain")
                    return
                text = "[2, 4, 20, 40]"
                if outer.mode == "echo":
                    text += " (you sent %s)" % auth
                if outer.mode == "big":
                    text += " " + "x" * (2 << 20)
                model = auth if outer.mode == "echo" else "fake-model"
                self.send(200, json.dumps({"model": model, "choices": [
                    {"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}]}))

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler,
                                                   bind_and_activate=False)
        self.srv.daemon_threads = True
        self.srv.server_bind()
        self.port = self.srv.server_address[1]
        self.url = "http://127.0.0.1:%d/v1" % self.port
        self.thread = None
        if up:
            self.start()

    def start(self):
        self.srv.server_activate()  # listen
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        if self.thread:
            self.srv.shutdown()
        self.srv.server_close()


def ge(binary, *args, expect=0, env=None):
    e = dict(os.environ)
    e[KEY_ENV] = KEY
    e.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run([binary] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120, env=e)
    p.seconds = time.monotonic() - t0
    if expect is not None and p.returncode != expect:
        fail("groundeval %s exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s"
             % (" ".join(args), p.returncode, expect, p.stdout[-3000:], p.stderr[-3000:]))
    return p


def records(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def leaks(text, secret):
    """Whether `text` holds the secret or any 10-character piece of it."""
    return any(secret[i:i + 10] in text for i in range(len(secret) - 9))


def check_no_secret(secret, outputs, dirs, what):
    for name, text in outputs:
        if leaks(text, secret):
            fail("%s: the secret appears in %s:\n%s" % (what, name, text[-2000:]))
    for d in dirs:
        for root, _, files in os.walk(d):
            for fn in files:
                p = os.path.join(root, fn)
                with open(p, "rb") as f:
                    data = f.read().decode("latin-1")
                if leaks(data, secret):
                    fail("%s: the secret appears in %s" % (what, p))


def spec(url, extra=""):
    return "openai:%s?model=fake-model&family=pixel&key_env=%s&max_retries=0%s" % (url, KEY_ENV,
                                                                                 extra)


def case_secrets(b, w):
    data = write_dataset(os.path.join(w, "data"))
    run, rep, cache = os.path.join(w, "run"), os.path.join(w, "report"), os.path.join(w, "cache")
    os.makedirs(cache)
    s = Server("echo")
    try:
        g = spec(s.url, "&cache=%s/answers.jsonl" % cache)
        outs = []
        p = ge(b, "run", "--dataset", data, "--grounder", g, "--out", run)
        outs += [("run stdout", p.stdout), ("run stderr", p.stderr)]
        p = ge(b, "run", "--dataset", data, "--grounder", g, "--out", run)  # resume: from cache
        outs += [("resume stdout", p.stdout), ("resume stderr", p.stderr)]
        p = ge(b, "probe", "--dataset", data, "--grounder", g, "--queries", "2", "--out",
               os.path.join(w, "probe"))
        outs += [("probe stdout", p.stdout), ("probe stderr", p.stderr)]
    finally:
        s.close()
    p = ge(b, "evaluate", "--dataset", data, "--predictions", os.path.join(run, "predictions.jsonl"),
           "--json", os.path.join(w, "eval.json"))
    outs += [("evaluate stdout", p.stdout), ("evaluate stderr", p.stderr)]
    p = ge(b, "report", run, "--out", rep)
    outs += [("report stdout", p.stdout), ("report stderr", p.stderr)]
    check_no_secret(KEY, outs, [run, rep, cache, os.path.join(w, "probe"), w], "secrets")
    r = records(os.path.join(run, "predictions.jsonl"))
    if len(r) != 6:
        fail("expected 6 records, got %d" % len(r))
    ok = [x for x in r if x["status"] == "ok"]
    err = [x for x in r if x["status"] == "error"]
    if len(ok) != 3 or len(err) != 3:
        fail("expected 3 answers and 3 server errors, got %s" % [x["status"] for x in r])
    if not all("Bearer ***" in x["raw_text"] for x in ok) or \
            not all("Authorization: Bearer ***" in x["message"] for x in err):
        fail("the echoed key should read 'Bearer ***':\n%s" % json.dumps(r, indent=1)[:3000])
    if not os.path.getsize(os.path.join(cache, "answers.jsonl")):
        fail("the answer cache is empty")


def case_credentials(b, w):
    data = write_dataset(os.path.join(w, "data"))
    run = os.path.join(w, "run")
    s = Server("plain")
    pw = "Pa55w0rd-e2e-51f0c3"
    try:
        url = s.url.replace("http://", "http://alice:%s@" % pw)
        p = ge(b, "run", "--dataset", data, "--grounder", spec(url), "--out", run, expect=1)
        q = ge(b, "probe", "--dataset", data, "--grounder", spec(url), "--out",
               os.path.join(w, "probe"), expect=1)
        conf = os.path.join(w, "g.conf")
        with open(conf, "w") as f:
            f.write("grounder = openai\nurl = %s\nmodel = fake-model\nfamily = pixel\n" % url)
        c = ge(b, "run", "--dataset", data, "--grounder", "@" + conf, "--out", run, expect=1)
    finally:
        s.close()
    for x in (p, q, c):
        if "holds credentials" not in x.stderr or "key_env" not in x.stderr:
            fail("credentials in the URL: unexpected message:\n" + x.stderr)
    if s.chat_requests:
        fail("a request was sent with credentials in the URL")
    if ":2: the server URL holds credentials" not in c.stderr:
        fail("the config file error should name FILE:2:\n" + c.stderr)
    check_no_secret(pw, [("stderr", p.stderr + q.stderr + c.stderr),
                         ("stdout", p.stdout + q.stdout + c.stdout)],
                    [d for d in (run, os.path.join(w, "probe")) if os.path.exists(d)],
                    "credentials")


def case_down(b, w):
    data = write_dataset(os.path.join(w, "data"))
    run = os.path.join(w, "run")
    s = Server("plain", up=False)
    try:
        p = ge(b, "run", "--dataset", data, "--grounder", spec(s.url), "--out", run, "--quiet",
               expect=1)
        if p.seconds > 10:
            fail("a run against a server that is down took %.1f s to stop" % p.seconds)
        want = "the server at %s is not ready: cannot connect to 127.0.0.1:%d" % (s.url, s.port)
        if want not in p.stderr:
            fail("server down: the error should say %r:\n%s" % (want, p.stderr))
        if records(os.path.join(run, "predictions.jsonl")):
            fail("a run against a server that is down recorded queries")
        s.start()
        ge(b, "run", "--dataset", data, "--grounder", spec(s.url), "--out", run, "--quiet")
    finally:
        s.close()
    r = records(os.path.join(run, "predictions.jsonl"))
    if len(r) != 6 or any(x["status"] != "ok" for x in r):
        fail("once up, the run should answer all 6 queries: %s" % [x["status"] for x in r])


def case_unreachable(b, w):
    data = write_dataset(os.path.join(w, "data"), images=6)
    run = os.path.join(w, "run")
    s = Server("plain", answers=2)
    g = spec(s.url, "&max_unreachable=3&concurrency=1")
    try:
        p = ge(b, "run", "--dataset", data, "--grounder", g, "--out", run, "--quiet", expect=1)
        if "gave no response to 3 queries in a row" not in p.stderr or s.url not in p.stderr:
            fail("the run should stop naming the server and max_unreachable:\n" + p.stderr)
        asked = s.chat_requests  # 2 answered + 3 unanswered (a reused connection is tried twice)
        if asked > 8:
            fail("the server gone, the run still sent %d requests" % asked)
        r = records(os.path.join(run, "predictions.jsonl"))
        if any(x["message"].startswith("not asked") for x in r):
            fail("queries not asked were recorded")
        s.answers = None  # the server is back
        ge(b, "run", "--dataset", data, "--grounder", g, "--out", run, "--quiet")
    finally:
        s.close()
    # queries that failed without a response before the stop are recorded as errors (the
    # runner's --retry-errors asks them again); nothing else is missing or failed
    r = records(os.path.join(run, "predictions.jsonl"))
    errors = [x for x in r if x["status"] != "ok"]
    if len(r) != 12 or len(errors) > 3 or \
            any(not x["message"].startswith("connection error:") for x in errors):
        fail("once back, the run should end with 12 records, failures only from the outage: %s"
             % [(x["status"], x["message"][:60]) for x in r])


def case_oversize(b, w):
    data = write_dataset(os.path.join(w, "data"), images=1)
    run = os.path.join(w, "run")
    s = Server("big")
    try:
        ge(b, "run", "--dataset", data, "--grounder", spec(s.url), "--out", run, "--quiet")
    finally:
        s.close()
    r = records(os.path.join(run, "predictions.jsonl"))
    if len(r) != 2 or any(x["status"] != "error" for x in r):
        fail("2 MiB answers should be errors: %s" % [x["status"] for x in r])
    if any(len(x["raw_text"].encode()) != 1 << 20 or "longer than the 1048576 bytes" not in
           x["message"] for x in r):
        fail("the record should keep the answer's first MiB and say why")
    p = ge(b, "evaluate", "--dataset", data, "--predictions", os.path.join(run, "predictions.jsonl"))
    if "evaluated:" not in p.stdout:
        fail("evaluate output:\n" + p.stdout)


def main():
    case, binary, work = sys.argv[1], sys.argv[2], sys.argv[3]
    w = os.path.join(work, case)
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    {"secrets": case_secrets, "credentials": case_credentials, "down": case_down,
     "unreachable": case_unreachable, "oversize": case_oversize}[case](binary, w)
    print("ok: " + case)


if __name__ == "__main__":
    main()
