# SPDX-License-Identifier: Apache-2.0
"""groundeval: exact, fast evaluation of phrase grounding, from Python.

A C++ core (``groundeval._core``, loaded on first use) behind a small Python API:

* data sets: :func:`open_flickr30k`, :func:`open_mdetr`, :func:`open_dataset` -> :class:`Dataset`
  (statistics, samples, evaluation queries);
* evaluation: :func:`evaluate` (numbers identical to ``groundeval evaluate``), :func:`compare`
  (paired statistics), :func:`replay` and :func:`report` (run directories and the HTML report);
* Python models through the C++ runner: :func:`run` asks a Python callable every query and
  records the answers in a run directory (resume, shards, progress, Ctrl-C), as ``groundeval run``;
* generalist answers: :func:`parse_box` for every model family of ``groundeval parse-box``;
* box operations like ``torchvision.ops``: :func:`box_iou`, :func:`generalized_box_iou`,
  :func:`max_iou`, :func:`nms`, :func:`batched_nms` on numpy arrays, CPU DLPack arrays and torch
  CUDA tensors (CUDA kernels, no copies).

``import groundeval`` works without the compiled part (the pure-Python sub-packages need only
Python); calling a compiled feature then raises :class:`CompiledPartMissing` saying how to build it.
"""
from ._errors import CompiledPartMissing, Error
from ._native import has_compiled_part
from .boxes import batched_nms, box_iou, generalized_box_iou, max_iou, nms
from .cli import run_cli
from .data import Dataset, Phrase, Query, Sample, open_dataset, open_flickr30k, open_mdetr
from .evaluation import Comparison, EvaluationResult, compare, evaluate, report, write_jsonl
from .parsing import ParseResult, families, geometry_keys, parse_box
from .runner import PhraseQuery, Request, RunProgress, RunResult, replay, run


def _version() -> str:
    """The installed distribution's version (set from CMakeLists.txt's project version at build
    time); from a source tree that was never installed, that line of CMakeLists.txt itself."""
    from importlib import metadata
    try:
        return metadata.version("groundeval")
    except metadata.PackageNotFoundError:
        import pathlib
        import re
        cmake = pathlib.Path(__file__).resolve().parents[2] / "CMakeLists.txt"
        m = re.search(r"project\(groundeval VERSION ([0-9.]+)",
                      cmake.read_text() if cmake.is_file() else "")
        return m.group(1) if m else "unknown"


__version__ = _version()

__all__ = [
    "CompiledPartMissing", "Error", "has_compiled_part", "run_cli",
    "box_iou", "generalized_box_iou", "max_iou", "nms", "batched_nms",
    "Dataset", "Phrase", "Query", "Sample", "open_dataset", "open_flickr30k", "open_mdetr",
    "Comparison", "EvaluationResult", "compare", "evaluate", "replay", "report", "write_jsonl",
    "PhraseQuery", "Request", "RunProgress", "RunResult", "run",
    "ParseResult", "families", "geometry_keys", "parse_box",
]
