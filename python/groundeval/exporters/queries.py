# SPDX-License-Identifier: Apache-2.0
"""Reading the JSON Lines that ``groundeval queries`` writes (schema in docs/specialist.md).

Pure Python: no numpy, no torch.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple


class ExportError(Exception):
    """A query file, a model output or a dump that does not fit; the message names the item."""


@dataclass(frozen=True)
class Query:
    """One evaluable phrase query (one line of ``groundeval queries``)."""

    key: str
    image_id: str
    sentence_id: int
    phrase_index: int
    chain_id: str
    phrase_types: Tuple[str, ...]
    image_path: Optional[str]
    image_size: Tuple[int, int]  # (width, height) in pixels
    sentence: str
    phrase: str
    span: Tuple[int, int]  # code points (Python str indices) in `sentence`
    span_utf8: Tuple[int, int]  # UTF-8 byte offsets in `sentence`
    captions: Dict[str, dict] = field(default_factory=dict, compare=False)


@dataclass
class SentenceQueries:
    """The queries of one caption: what one forward pass of a caption-level model answers."""

    image_id: str
    sentence_id: int
    sentence: str
    image_path: Optional[str]
    image_size: Tuple[int, int]
    queries: List[Query]

    @property
    def key(self) -> Tuple[str, int]:
        return (self.image_id, self.sentence_id)


_REQUIRED = ("key", "image_id", "sentence_id", "phrase_index", "sentence", "phrase", "span",
             "image_size")


def parse_query(line: str, where: str = "<queries>") -> Query:
    """One JSON line to a Query; ExportError naming `where` when a field is missing or wrong."""
    try:
        d = json.loads(line)
    except json.JSONDecodeError as e:
        raise ExportError(f"{where}: not JSON: {e}") from None
    if not isinstance(d, dict):
        raise ExportError(f"{where}: expected a JSON object")
    for k in _REQUIRED:
        if k not in d:
            raise ExportError(f"{where}: the query has no '{k}' (is this `groundeval queries` output?)")
    s = d["sentence"]
    b, e = d["span"]
    if not (0 <= b < e <= len(s)) or s[b:e] != d["phrase"]:
        raise ExportError(f"{where}: span {d['span']} of {d['key']} does not hold the phrase "
                          f"{d['phrase']!r} in {s!r}")
    su = d.get("span_utf8") or [len(s[:b].encode()), len(s[:e].encode())]
    return Query(key=d["key"], image_id=str(d["image_id"]), sentence_id=int(d["sentence_id"]),
                 phrase_index=int(d["phrase_index"]), chain_id=str(d.get("chain_id", "")),
                 phrase_types=tuple(d.get("phrase_types", ())), image_path=d.get("image_path"),
                 image_size=(int(d["image_size"][0]), int(d["image_size"][1])), sentence=s,
                 phrase=d["phrase"], span=(int(b), int(e)), span_utf8=(int(su[0]), int(su[1])),
                 captions=d.get("captions", {}))


def read_queries(path: str) -> List[Query]:
    """All queries of a ``groundeval queries`` file, in file order (the order `run` asks them)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                out.append(parse_query(line, f"{path}:{n}"))
    return out


def by_sentence(queries: Iterable[Query]) -> List[SentenceQueries]:
    """Groups queries by (image id, sentence id), keeping the first appearance order."""
    groups: Dict[Tuple[str, int], SentenceQueries] = {}
    for q in queries:
        g = groups.get((q.image_id, q.sentence_id))
        if g is None:
            g = groups[(q.image_id, q.sentence_id)] = SentenceQueries(
                q.image_id, q.sentence_id, q.sentence, q.image_path, q.image_size, [])
        elif g.sentence != q.sentence:
            raise ExportError(f"query {q.key}: sentence {q.sentence!r} differs from "
                              f"{g.sentence!r} of the same key")
        g.queries.append(q)
    return list(groups.values())
