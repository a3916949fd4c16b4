# SPDX-License-Identifier: Apache-2.0
"""parse_box equals `groundeval parse-box` on every family's answers (data/parse_box_cases.json:
the C++ parser table's cases plus geometry options and malformed answers)."""
import json
import os

import pytest

import groundeval
from cli_support import run_cli

CASES = json.load(open(os.path.join(os.path.dirname(__file__), "data", "parse_box_cases.json"),
                       encoding="utf-8"))["cases"]


def fmt(v):
    # `groundeval parse-box` prints coordinates with 10 significant digits (%.10g).
    return float("%.10g" % v)


def test_every_family_is_covered():
    assert {c["family"] for c in CASES} == set(groundeval.families())


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{c['family']}" for i, c in enumerate(CASES)])
def test_parse_box_equals_cli(case):
    geometry = dict(case["geometry"])
    w, h = case["size"]
    args = ["parse-box", "--family", case["family"], "--image-size", f"{w}x{h}"]
    for k, v in case["geometry"]:
        args += ["--geometry", f"{k}={v}"]
    cli = json.loads(run_cli(*args, case["text"]))
    py = groundeval.parse_box(case["text"], case["family"], (w, h), **geometry).to_dict()
    py["boxes"] = [[fmt(v) for v in b] for b in py["boxes"]]
    for p in py["points"]:
        p["point"] = [fmt(v) for v in p["point"]]
    assert py == cli


def test_geometry_keywords_are_converted():
    r = groundeval.parse_box("[10, 20, 200, 220]", "pixel", "1280x720", input=(448, 448),
                             clip=False)
    assert r.geometry["preprocess"] == "stretch" and r.geometry["clip"] is False
    assert r.boxes[0] == pytest.approx((10 * 1280 / 448, 20 * 720 / 448, 200 * 1280 / 448,
                                        220 * 720 / 448))
    with pytest.raises(groundeval.Error, match="frame"):
        groundeval.parse_box("[0.1, 0.2, 0.3, 0.4]", "llava", (10, 10), divisor=999)
    assert "frame" in groundeval.geometry_keys("llava")


def test_docstring_example():
    r = groundeval.parse_box("The man is at [0.1, 0.2, 0.5, 0.9].", "llava", (640, 480),
                             frame="original")
    assert (r.status, r.boxes[0]) == ("ok", (64.0, 96.0, 320.0, 432.0))
