# SPDX-License-Identifier: Apache-2.0
"""Box parsing of generalist model answers: the Python face of ``groundeval parse-box``.

>>> r = parse_box("The man is at [0.1, 0.2, 0.5, 0.9].", "llava", (640, 480), frame="original")
>>> r.status, r.boxes[0]
('ok', (64.0, 96.0, 320.0, 432.0))
"""
import json
from dataclasses import dataclass, field

from ._native import core


@dataclass(frozen=True)
class ParseResult:
    """One decoded answer, in original-image pixels.

    status: "ok" (>= 1 box), "empty" (no box) or "format_failure" (box-like text that could not be
    read); boxes: [(x1, y1, x2, y2)] in the order they appear in the text; raw: the values as
    written (reordered to x1, y1, x2, y2); labels: the phrase label of each box ("" when the format
    has none); box_flags: per box, "swapped" / "clipped"; flags: their union; partial: some
    box-like text was skipped (status stays ok); reason: why empty / format_failure or what was
    skipped; geometry: the contract used (dict, as in docs/generalist.md); points: the decoded
    points of point-answer families (molmo, gemini "point"), each {"point": (x, y), "label",
    "flags"} in original-image pixels.
    """
    family: str
    status: str
    boxes: list = field(default_factory=list)
    raw: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    box_flags: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    partial: bool = False
    reason: str = ""
    geometry: dict = field(default_factory=dict)
    points: list = field(default_factory=list)

    def to_dict(self):
        """The object `groundeval parse-box` prints (reason None when empty)."""
        return {"status": self.status, "family": self.family,
                "boxes": [list(b) for b in self.boxes], "labels": list(self.labels),
                "box_flags": [list(f) for f in self.box_flags],
                "points": [{"point": list(p["point"]), "label": p["label"],
                            "flags": list(p["flags"])} for p in self.points],
                "flags": list(self.flags),
                "partial": self.partial, "reason": self.reason or None,
                "geometry": self.geometry}


def families():
    """The family identifiers parse_box accepts."""
    return list(core().families())


def geometry_keys(family):
    """The geometry keywords `family` accepts (every family accepts clip)."""
    return list(core().geometry_keys(family))


def _size(image_size):
    if isinstance(image_size, str):
        w, _, h = image_size.partition("x")
        return int(w), int(h)
    w, h = image_size
    return int(w), int(h)


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return f"{int(v[0])}x{int(v[1])}"
    return str(v)


def parse_box(text, family, image_size, **geometry):
    """Decodes one model answer with `family`'s box format and geometry contract.

    image_size: the original image as (width, height) or "WxH". geometry: the family's
    keywords, as `groundeval parse-box --geometry KEY=VALUE` (e.g. frame="padded" for llava,
    min_pixels=3136 for qwen2.5-vl, input=(448, 448) for pixel, clip=False for any family); see
    :func:`geometry_keys`. Unknown families and keys raise groundeval.Error naming the valid ones.
    """
    w, h = _size(image_size)
    opts = [(k, _value(v)) for k, v in geometry.items()]
    status, boxes, raw, labels, box_flags, flags, partial, reason, geom, points = core().parse_box(
        family, text, w, h, opts)
    return ParseResult(family=family, status=status, boxes=[tuple(b) for b in boxes],
                       raw=[tuple(r) for r in raw], labels=list(labels),
                       box_flags=[list(f) for f in box_flags], flags=list(flags),
                       partial=bool(partial), reason=reason, geometry=json.loads(geom),
                       points=[{"point": (x, y), "label": label, "flags": list(f)}
                               for x, y, label, f in points])
