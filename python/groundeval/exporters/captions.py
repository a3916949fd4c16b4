# SPDX-License-Identifier: Apache-2.0
"""The caption each model family reads, with every phrase span carried over to it.

These are the Python rules the models apply (``str.lower()``, ``str.strip()``), so they are exact
for any Unicode text; ``groundeval queries`` writes the same mappings with ASCII-only rules (its
``exact`` flag is false where they may differ). Pure Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

from .queries import ExportError


@dataclass(frozen=True)
class MappedCaption:
    """`text` is what the model reads; spans[i] is phrase i's span in it (code points)."""

    text: str
    spans: Tuple[Tuple[int, int], ...]
    mapping: str  # the rule, in words (recorded in every dump)


def identity(sentence: str, spans: Sequence[Tuple[int, int]], family: str) -> MappedCaption:
    """MDETR and GLIP feed the data set's caption unchanged (their tokenizers handle case)."""
    return MappedCaption(sentence, tuple(tuple(s) for s in spans), f"{family}: caption unchanged")


def grounding_dino(sentence: str, spans: Sequence[Tuple[int, int]]) -> MappedCaption:
    """GroundingDINO's ``preprocess_caption``: ``caption.lower().strip()``, then "." appended
    unless it ends with "." (groundingdino/util/inference.py; the Hugging Face model card asks
    for the same). Spans move with the characters: lower-casing can change a character's length
    (U+0130 becomes two code points), stripping shifts everything left."""
    lowered = sentence.lower()
    # Start of each source character in the lowered text (per-character lengths; the only
    # context-dependent rule of str.lower(), the final sigma, keeps lengths).
    starts: List[int] = []
    n = 0
    for c in sentence:
        starts.append(n)
        n += len(c.lower())
    starts.append(n)
    if n != len(lowered):
        raise ExportError(f"cannot align the lower-cased caption of {sentence!r}")
    lead = len(lowered) - len(lowered.lstrip())
    text = lowered.strip()
    if not text.endswith("."):
        text += "."
    out = []
    for b, e in spans:
        nb, ne = starts[b] - lead, starts[e] - lead
        if not (0 <= nb < ne <= len(text)):
            raise ExportError(f"phrase span [{b}, {e}) of {sentence!r} falls outside the "
                              f"Grounding DINO caption {text!r}")
        out.append((nb, ne))
    return MappedCaption(text, tuple(out),
                         "grounding-dino: lower(), strip(), '.' appended unless it ends with '.'")


def utf8_offsets(text: str, offsets: Sequence[Tuple[int, int]]) -> List[Tuple[int, int]]:
    """Code-point offsets into `text` as UTF-8 byte offsets (what groundeval's dumps hold)."""
    if text.isascii():
        return [(int(b), int(e)) for b, e in offsets]
    pos = [0]
    for c in text:
        pos.append(pos[-1] + len(c.encode("utf-8")))
    return [(pos[int(b)], pos[int(e)]) if (b, e) != (0, 0) else (0, 0) for b, e in offsets]
