# SPDX-License-Identifier: Apache-2.0
"""Data sets: Flickr30k Entities folders and MDETR-format files, with the options of the CLI
(split, explicit image ids, seeded sample, lenient loading), their statistics and the evaluation
queries as Python objects.

>>> ds = open_flickr30k("/data/flickr30k_entities", split="test", sample=100, seed=1)
>>> ds.stats()["evaluable_phrases"], ds.queries()[0].phrase
"""
import json
import os
from dataclasses import dataclass

from ._native import core, data_dir


@dataclass(frozen=True)
class Phrase:
    """One annotated phrase of a sentence; `boxes` empty means it is not evaluated."""
    text: str
    chain_id: str
    types: tuple
    boxes: tuple            # ((x1, y1, x2, y2), ...) in original-image pixels
    char_begin: int         # span in the sentence, [begin, end)
    char_end: int
    first_word_index: int

    @property
    def evaluable(self):
        return len(self.boxes) > 0


@dataclass(frozen=True)
class Sample:
    """One sentence of one image."""
    image_id: str
    sentence_id: int        # 0-based non-empty-line index, as MDETR's predictions use
    sentence: str
    image_size: tuple       # (width, height)
    image_path: str         # "" when the data set has no image folder
    phrases: tuple


@dataclass(frozen=True)
class Query:
    """One evaluation query: an evaluable phrase in its sentence and image.

    key is "<image_id>/<sentence_id>/<phrase_index>", the key `groundeval queries` writes;
    predictions are matched by (image_id, sentence_id, phrase_index).
    """
    key: str
    image_id: str
    image_path: str
    image_size: tuple
    sentence_id: int
    sentence: str
    phrase: str
    phrase_index: int       # index among all annotated phrases of the sentence
    span: tuple             # (char_begin, char_end) of the phrase in the sentence
    chain_id: str
    types: tuple
    boxes: tuple            # the ground truth


class Dataset:
    """A loaded data set. Build one with :func:`open_flickr30k`, :func:`open_mdetr` or
    :func:`open_dataset`; the spec and options are kept so the CLI can load the same data."""

    def __init__(self, handle, spec, split, sample=None, sample_by="image", seed=0, ids=None):
        self._h = handle
        self.spec = spec
        self.split = split
        self.sample = sample
        self.sample_by = sample_by
        self.seed = seed
        self.ids = ids
        self._samples = None

    def __len__(self):
        """Number of samples (sentences)."""
        return len(self._h)

    def __repr__(self):
        return f"<groundeval.Dataset {self.spec} split={self.split} sentences={len(self)}>"

    @property
    def problems(self):
        """Problems a lenient load skipped, as "FILE:LINE: message" strings."""
        return list(self._h.problems)

    def sample_description(self):
        """"all", or "images=N seed=S" / "phrases=N seed=S" as run manifests record it."""
        if self.sample is None:
            return "all"
        kind = "phrases" if self.sample_by == "phrase" else "images"
        return f"{kind}={self.sample} seed={self.seed}"

    def stats(self):
        """The statistics as a dict: the object `groundeval stats --json` writes."""
        d = json.loads(self._h.statistics_json)
        out = {"sample": self.sample_description(), "annotation_counts": self._h.annotation_counts}
        out.update(d)
        return out

    def samples(self):
        """Every sample (sentence) as a :class:`Sample`, in data set order."""
        if self._samples is None:
            image_dir = self._h.image_dir
            out = []
            for image_id, sid, sentence, w, h, phrases in self._h.samples():
                ph = tuple(Phrase(t, c, tuple(ty), tuple(tuple(b) for b in bx), cb, ce, fw)
                           for t, c, ty, bx, cb, ce, fw in phrases)
                path = os.path.join(image_dir, image_id + ".jpg") if image_dir else ""
                out.append(Sample(image_id, sid, sentence, (w, h), path, ph))
            self._samples = out
        return self._samples

    def queries(self):
        """The evaluation queries (evaluable phrases) in data set order: what `groundeval run`
        asks a grounder and what `evaluate` scores."""
        out = []
        for s in self.samples():
            for k, p in enumerate(s.phrases):
                if p.evaluable:
                    out.append(Query(f"{s.image_id}/{s.sentence_id}/{k}", s.image_id, s.image_path,
                                     s.image_size, s.sentence_id, s.sentence, p.text, k,
                                     (p.char_begin, p.char_end), p.chain_id, p.types, p.boxes))
        return out

    def cli_args(self):
        """The `--dataset SPEC --split S [--sample N ...]` arguments that load this data set in the
        command-line tool (`run`, `report`); explicit image ids have no CLI form."""
        if self.ids is not None:
            raise ValueError("a data set opened with explicit image ids has no command-line form "
                             "(the CLI selects images by --split or --sample)")
        args = ["--dataset", self.spec]
        if self.spec.startswith("flickr30k:"):
            args += ["--split", self.split]
        if self.sample is not None:
            args += ["--sample", str(self.sample), "--sample-by", self.sample_by,
                     "--seed", str(self.seed)]
        return args


def _sampling(sample, sample_by, seed):
    if sample_by not in ("image", "phrase"):
        raise ValueError(f"sample_by must be 'image' or 'phrase', not {sample_by!r}")
    if sample is not None and (int(sample) != sample or sample < 0):
        raise ValueError(f"sample must be a non-negative integer, not {sample!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    return (None if sample is None else int(sample)), sample_by == "phrase", int(seed)


def _read_ids(ids):
    if ids is None:
        return None
    if isinstance(ids, (str, os.PathLike)):
        with open(ids, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    return [str(i) for i in ids]


def open_flickr30k(root, split="test", ids=None, sample=None, sample_by="image", seed=0,
                   lenient=False, image_dir=None, threads=0, missing_chain_error=False):
    """Loads a Flickr30k Entities folder (Annotations/ and Sentences/) as `groundeval stats
    --dataset flickr30k:ROOT` does.

    split: train, val, test or all (the list is ROOT/<split>.txt when present, else the official
    list installed with groundeval); ids: explicit image ids (a list, or a file with one per line)
    instead of the split; sample / sample_by / seed: the seeded sub-sample of `--sample N
    --sample-by image|phrase --seed S` (the same images or phrases on every machine); lenient:
    skip broken files and report them in `problems` instead of raising; image_dir: the images'
    folder (default ROOT/flickr30k-images when it exists)."""
    n, by_phrase, seed = _sampling(sample, sample_by, seed)
    id_list = _read_ids(ids)
    h = core().load_flickr30k(os.fspath(root), split, id_list or [], data_dir(),
                              os.fspath(image_dir) if image_dir else "", bool(lenient),
                              bool(missing_chain_error), int(threads), n, by_phrase, seed)
    return Dataset(h, "flickr30k:" + os.fspath(root), split, sample=n, sample_by=sample_by,
                   seed=seed, ids=id_list)


def open_mdetr(path, image_dir=None, sample=None, sample_by="image", seed=0):
    """Loads an MDETR-format annotation file (final_flickr_separateGT_*.json, RefCOCO/+/g ...) as
    `--dataset mdetr:PATH` does; sample / sample_by / seed as in :func:`open_flickr30k`."""
    n, by_phrase, seed = _sampling(sample, sample_by, seed)
    h = core().load_mdetr(os.fspath(path), os.fspath(image_dir) if image_dir else "", n,
                          by_phrase, seed)
    return Dataset(h, "mdetr:" + os.fspath(path), "(from the file)", sample=n,
                   sample_by=sample_by, seed=seed)


def open_dataset(spec, split="test", **options):
    """Loads a data set from a CLI spec: "flickr30k:DIR" or "mdetr:FILE.json"."""
    kind, sep, path = str(spec).partition(":")
    if sep and kind == "flickr30k":
        return open_flickr30k(path, split=split, **options)
    if sep and kind == "mdetr":
        return open_mdetr(path, **options)
    raise ValueError(f"data set spec {spec!r}: expected flickr30k:DIR or mdetr:FILE.json")
