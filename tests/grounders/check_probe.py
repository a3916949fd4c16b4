# SPDX-License-Identifier: Apache-2.0
"""End-to-end checks of the frame-proof geometry through the command line, against a local fake
OpenAI-compatible server (Python's http.server on 127.0.0.1) that reads the size of every image
it receives from the PNG header:

  llava_probe   `groundeval probe` with family llava: the server receives a square PNG, the
                printed geometry records the client-side padding, the answer decodes to the
                right box, probe_1.png is written
  qwen_probe    `groundeval probe` with qwen2.5-vl and the server's max_pixels: frame check passes
  qwen_run_stop `groundeval run` with qwen2.5-vl WITHOUT the server's max_pixels: exits 1 with
                the frame-check error after the 3 check requests, before any query of the run

usage: check_probe.py CASE GROUNDEVAL_BINARY WORK_DIR
The data set is SYNTHETIC (one made-up image id, one sentence, one box). Standard library only.
"""
import base64
import http.server
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import threading
import zlib


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def png(width, height, rgb=(0, 0, 200)):
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0,
                                                               0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("the server received something that is not a PNG: %r" % data[:8])
    return struct.unpack(">II", data[16:24])


def smart_resize(w, h, factor=28, min_pixels=3136, max_pixels=16384 * 28 * 28):
    """qwen-vl-utils smart_resize (Python's round() is round-half-even, as there)."""
    hb, wb = max(factor, round(h / factor) * factor), max(factor, round(w / factor) * factor)
    if hb * wb > max_pixels:
        beta = math.sqrt(h * w / max_pixels)
        hb = max(factor, math.floor(h / beta / factor) * factor)
        wb = max(factor, math.floor(w / beta / factor) * factor)
    elif hb * wb < min_pixels:
        beta = math.sqrt(min_pixels / (h * w))
        hb, wb = math.ceil(h * beta / factor) * factor, math.ceil(w * beta / factor) * factor
    return wb, hb


class Server:
    """answer: the message content; max_pixels: the server processor's (usage from it)."""

    def __init__(self, answer, max_pixels=16384 * 28 * 28):
        self.answer, self.max_pixels, self.sizes = answer, max_pixels, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                url = [p for p in body["messages"][0]["content"] if p["type"] == "image_url"][0]
                w, h = png_size(base64.b64decode(url["image_url"]["url"].split(",", 1)[1]))
                outer.sizes.append((w, h))
                fw, fh = smart_resize(w, h, max_pixels=outer.max_pixels)
                out = {"model": "fake", "choices": [{"index": 0, "finish_reason": "stop",
                       "message": {"role": "assistant", "content": outer.answer}}],
                       "usage": {"prompt_tokens": 30 + (fw // 28) * (fh // 28),
                                 "completion_tokens": 9}}
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/v1" % self.srv.server_address[1]

    def close(self):
        self.srv.shutdown()


def ge(binary, *args, expect=0):
    p = subprocess.run([binary] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    if expect is not None and p.returncode != expect:
        fail("groundeval %s exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s"
             % (" ".join(args), p.returncode, expect, p.stdout, p.stderr))
    return p


def write_dataset(root, w, h):
    """SYNTHETIC: one image (a blue PNG named .jpg), one sentence, one phrase with one box."""
    for d in ("Annotations", "Sentences", "flickr30k-images"):
        os.makedirs(os.path.join(root, d))
    iid = "9900001"
    with open(os.path.join(root, "Annotations", iid + ".xml"), "w") as f:
        f.write("<annotation><filename>%s.jpg</filename><size><width>%d</width><height>%d"
                "</height><depth>3</depth></size><object><name>1</name><bndbox><xmin>10</xmin>"
                "<ymin>20</ymin><xmax>110</xmax><ymax>120</ymax></bndbox></object></annotation>\n"
                % (iid, w, h))
    with open(os.path.join(root, "Sentences", iid + ".txt"), "w") as f:
        f.write("[/EN#1/other A blue square] on nothing .\n")
    with open(os.path.join(root, "test.txt"), "w") as f:
        f.write(iid + "\n")
    with open(os.path.join(root, "flickr30k-images", iid + ".jpg"), "wb") as f:
        f.write(png(w, h))
    return "flickr30k:" + root


def case_llava_probe(b, w):
    img = os.path.join(w, "pic.png")
    with open(img, "wb") as f:
        f.write(png(64, 40))
    s = Server("[0.25, 0.25, 0.75, 0.75]")
    try:
        p = ge(b, "probe", "--grounder", "openai:%s?model=llava&family=llava&key_env=" % s.url,
               "--image", img, "--phrase", "the blue", "--out", os.path.join(w, "out"))
    finally:
        s.close()
    if s.sizes != [(64, 64)]:
        fail("llava: the server should receive one 64x64 padded square, got %s" % s.sizes)
    for want in ['"send": "pad_square", "pad_colour": [122, 116, 104], "sent": [64, 64]',
                 "sends: a PNG padded to 64 square client-side",
                 "box: [16.0, 4.0, 48.0, 36.0]",  # 0.25 * 64 - 12 = 4 on y (pad offset 12)
                 "frame check: the family's numbers do not depend"]:
        if want not in p.stdout:
            fail("llava probe output lacks %r:\n%s" % (want, p.stdout))
    with open(os.path.join(w, "out", "probe_1.png"), "rb") as f:
        if png_size(f.read())[0] < 64:  # at least the photo (a caption may widen it)
            fail("probe_1.png is narrower than the photo")


def case_qwen_probe(b, w):
    spec = write_dataset(os.path.join(w, "data"), 1000, 800)
    s = Server('```json\n[{"bbox_2d": [47, 39, 95, 78], "label": "a blue square"}]\n```',
               max_pixels=200704)
    try:
        p = ge(b, "probe", "--dataset", spec, "--grounder",
               "openai:%s?model=q&family=qwen2.5-vl&max_pixels=200704&key_env=" % s.url,
               "--out", os.path.join(w, "out"))
    finally:
        s.close()
    if s.sizes != [(1000, 800), (448, 448), (1680, 1260), (1000, 800)]:
        fail("qwen probe: expected the 3 check images then the query, got %s" % s.sizes)
    # 476 x 392 frame: x * 1000 / 476, y * 800 / 392
    for want in ["frame check: the server's prompt token counts match min_pixels=3136 "
                 "max_pixels=200704", "1000x800 -> 476x392 (238 image tokens)",
                 "box: [98.7, 79.6, 199.6, 159.2]", "ground truth: [10.0, 20.0, 110.0, 120.0]"]:
        if want not in p.stdout:
            fail("qwen probe output lacks %r:\n%s" % (want, p.stdout))


def case_qwen_run_stop(b, w):
    spec = write_dataset(os.path.join(w, "data"), 1000, 800)
    s = Server('```json\n[{"bbox_2d": [47, 39, 95, 78]}]\n```', max_pixels=200704)
    out = os.path.join(w, "run")
    try:
        p = ge(b, "run", "--dataset", spec, "--split", "test", "--quiet", "--out", out,
               "--grounder", "openai:%s?model=q&family=qwen2.5-vl&key_env=" % s.url, expect=1)
    finally:
        s.close()
    if "frame check: the server resizes images differently" not in p.stderr \
            or "max_pixels=12845056" not in p.stderr:
        fail("run without the server's max_pixels: unexpected error:\n" + p.stderr)
    if len(s.sizes) != 3:
        fail("the run should stop after the 3 check requests, the server got %s" % s.sizes)
    pred = os.path.join(out, "predictions.jsonl")
    if os.path.exists(pred) and open(pred).read().strip():
        fail("a stopped run recorded predictions:\n" + open(pred).read())


def main():
    case, binary, work = sys.argv[1], sys.argv[2], sys.argv[3]
    w = os.path.join(work, case)
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    {"llava_probe": case_llava_probe, "qwen_probe": case_qwen_probe,
     "qwen_run_stop": case_qwen_run_stop}[case](binary, w)
    print("ok: " + case)


if __name__ == "__main__":
    main()
