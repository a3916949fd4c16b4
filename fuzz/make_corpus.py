#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Regenerates the seed corpora fuzz/corpus/<harness>/seed_* from the test fixtures and the
parser test strings (docs/fuzzing.md). Files the fuzzer found (crash reproducers, kept as
regression seeds) are named repro_* and are left alone. Run from anywhere: fuzz/make_corpus.py"""
import hashlib
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"
# The order of the family table (include/groundeval/grounders/families.hpp): byte 0 of a
# box_parsers seed is an index into it.
FAMILIES = ["llava", "shikra", "qwen-vl", "qwen2-vl", "qwen2.5-vl", "qwen3-vl", "kosmos-2",
            "florence-2", "cogvlm", "minigpt-v2", "paligemma", "internvl", "ferret", "pixel",
            "gemini", "minicpm-v", "deepseek-vl2", "glm-4v", "molmo"]


def put(harness, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / harness
    d.mkdir(parents=True, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    (d / f"seed_{name}").write_bytes(data)


def c_strings(chunk):
    """Concatenated C string literals at the start of `chunk`, decoded to bytes."""
    out = b""
    for m in re.finditer(r'\s*"((?:[^"\\]|\\.)*)"', chunk):
        if chunk[:m.start()].strip():
            break
        out += c_unescape(m.group(1))
    return out


def c_unescape(s):
    b, i, raw = bytearray(), 0, s.encode()
    simple = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("0"): 0, ord("\\"): 92,
              ord('"'): 34, ord("'"): 39, ord("f"): 12, ord("v"): 11, ord("b"): 8, ord("a"): 7}
    while i < len(raw):
        c = raw[i]
        if c != 92:
            b.append(c)
            i += 1
            continue
        e = raw[i + 1]
        if e == ord("x"):
            j = i + 2
            while j < len(raw) and chr(raw[j]) in "0123456789abcdefABCDEF":
                j += 1
            b.append(int(raw[i + 2:j], 16) & 0xFF)
            i = j
        elif e == ord("u"):
            b += chr(int(raw[i + 2:i + 6], 16)).encode()
            i += 6
        else:
            b.append(simple.get(e, e))
            i += 2
    return bytes(b)


def main():
    for old in OUT.glob("*/seed_*"):
        old.unlink()
    fx = ROOT / "tests" / "datasets" / "fixtures"
    for f in sorted((fx / "flickr30k_small" / "Sentences").glob("*.txt")):
        put("flickr30k_sentences", f.read_bytes(), f.stem)
    for s in ["[/EN#1/people A man] in [/EN#2/clothing/other a red hat] .\n",
              "A [/EN#0/notvisual ] x\r\n\rb", "[/EN#12/people [/EN#3/bodyparts nested] words]",
              "\xc2\xa0[/EN#7/scene the\u3000park]"]:
        put("flickr30k_sentences", s)
    for f in sorted((fx / "flickr30k_small" / "Annotations").glob("*.xml")):
        put("flickr30k_xml", f.read_bytes(), f.stem)
        text = f.read_text()
        put("flickr30k_xml", text.replace("<annotation>", '<annotation a="1">', 1), f.stem + "_attr")
        put("flickr30k_xml", text.replace("</xmin>", "</xmin><!-- c -->", 1), f.stem + "_comment")
    put("flickr30k_xml", "<annotation><size><width>5</width><height>&#52;</height></size>"
        "<object><name>1</name><name>2</name><nobndbox>1</nobndbox><scene>0</scene></object>"
        "<object><name>3</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>1</xmax><ymax>4</ymax>"
        "</bndbox></object></annotation>")
    for f in [fx / "mdetr_refcoco_small.json", fx / "flickr30k_small" / "mdetr_separateGT_test.json"]:
        put("mdetr_json", f.read_bytes(), f.stem)

    put("predictions", '[{"image_id": 1000092795, "sentence_id": 0, "boxes": [[[1, 2, 3, 4], '
        '[0.1, 0.2, 49.999999, 1e300]]]}, {"image_id": "x", "sentence_id": "1", "boxes": [[]]}]')
    put("predictions", '[{"image_id": 1, "sentence_id": 0, "boxes": [[[1, null, 3, 4]]]}]')
    base = '{"image_id": "1", "sentence_id": 0, "phrase_index": 0, '
    put("predictions", base + '"chain_id": 7, "phrase": "a dog", "boxes": [[1,2,3,4],[5,6,7,8]], '
        '"scores": [0.5, null], "status": "ok", "message": "", "raw_text": "[1,2,3,4]", '
        '"latency_s": 0.25, "config_hash": "ab", "geometry": {"space":"pixels","scale":[1.5,2]}}\n'
        + base + '"boxes": [], "status": "empty"}\r\n\n'
        + base + '"boxes": [[1,2,3,null]], "status": "format_failure", "geometry": "x"}\n')
    put("predictions", base + '"boxes": [], "status": "error", "message": "timeout"}')

    # Parser test strings: {"family", {W, H}, {geometry...}, "text" "text", status, ...}
    src = "".join((ROOT / "tests" / "grounders" / f).read_text()
                  for f in ("test_parsers.cpp", "test_families.cpp"))
    fam_re = "|".join(re.escape(f) for f in FAMILIES)
    n = 0
    for m in re.finditer(r'\{"(' + fam_re + r')",\s*\{[^{}]*\},\s*\{(?:[^{}]|\{[^{}]*\})*\},', src):
        text = c_strings(src[m.end():])
        if not text:
            continue
        put("box_parsers", bytes([FAMILIES.index(m.group(1)), 0]) + text)
        n += 1
    assert n > 20, f"only {n} parser cases found in the parser tests"

    for body in [
        '{"id": "x", "model": "qwen", "choices": [{"index": 0, "finish_reason": "stop", "message": '
        '{"role": "assistant", "content": "```json\\n[{\\"bbox_2d\\": [1, 2, 30, 40], \\"label\\": '
        '\\"dog\\"}]\\n```"}}], "usage": {"prompt_tokens": 12, "completion_tokens": 30}}',
        '{"choices": [{"message": {"content": null}}]}', '{"id": "x", "choices": []}',
        '{"choices": [{"message": ',
        '{"key": "k", "raw_text": "[1,2,3,4]", "latency_s": 0.5, "prompt_tokens": 3, '
        '"completion_tokens": 4, "server_model": "m", "finish_reason": "stop"}\n{"key": "torn',
    ]:
        put("chat_response", body)

    pf = ROOT / "tests" / "postprocess" / "fixtures"
    for f in sorted((pf / "mdetr_img2").glob("*.npy")) + [pf / "truncated.npy"]:
        put("npy", f.read_bytes(), f.stem)
    for f in sorted(pf.glob("*.npz")):
        put("npy_detector", b"\x00" + f.read_bytes(), f.stem)
    put("npy_detector", b"\x01" + (pf / "manifest.txt").read_bytes().replace(
        b"gdino_img1.npz", b"dump.npz"), "manifest")
    put("npy_detector", b"\x01# comment\r\nimg1 dump.npz \nimg2\t./dump.npz\nimg3", "manifest2")


if __name__ == "__main__":
    main()
