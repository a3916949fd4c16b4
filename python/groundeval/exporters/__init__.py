# SPDX-License-Identifier: Apache-2.0
"""Exporters: run a specialist model over the queries of ``groundeval queries`` and write what
groundeval replays (npy-detector dumps or JSON Lines predictions), recording the caption mapping
each model applies. Pure Python; numpy for writing, torch / transformers only where a model runs.

Modules: ``queries`` (read the queries), ``captions`` (each family's caption mapping), ``dumps``
(writers), ``grounding_dino``, ``mdetr``, ``glip``, ``owlv2``. Command line:
``python -m groundeval.exporters --help``.
"""
from .queries import ExportError, Query, SentenceQueries, by_sentence, read_queries

__all__ = ["ExportError", "Query", "SentenceQueries", "by_sentence", "read_queries"]
