# SPDX-License-Identifier: Apache-2.0
"""Lazy access to the compiled part and to the files installed with the package.

``import groundeval`` never loads ``groundeval._core``: the pure-Python parts (exporters,
converters, ...) work without it, and each compiled feature loads it on first use, raising
:class:`CompiledPartMissing` with the way to build it when it is not there.
"""
import os
from pathlib import Path

from ._errors import CompiledPartMissing

_core = None
_HERE = Path(__file__).resolve().parent

BUILD_HINT = (
    "build it from the groundeval repository root with `python3 -m venv v && v/bin/pip install .` "
    "(a C++20 compiler, CMake >= 3.25 and the Debian packages of scripts/setup-deps.sh are needed; "
    "see README.md, section Python)"
)


def core():
    """The compiled module ``groundeval._core``; raises CompiledPartMissing when unavailable."""
    global _core
    if _core is None:
        try:
            from . import _core as module  # noqa: PLC0415 (lazy on purpose)
        except ImportError as e:
            raise CompiledPartMissing(
                f"groundeval's compiled part (groundeval._core) is not available ({e}); "
                + BUILD_HINT) from e
        _core = module
    return _core


def has_compiled_part():
    """True when ``groundeval._core`` can be imported."""
    try:
        core()
    except CompiledPartMissing:
        return False
    return True


def data_dir():
    """Folder holding flickr30k_entities/<split>.txt (the official split lists): the copy
    installed with the package, else the repository's data/ when running from a checkout."""
    for d in (_HERE / "_data", _HERE.parent.parent / "data"):
        if (d / "flickr30k_entities" / "test.txt").is_file():
            return str(d)
    return ""


def cli_executable():
    """Path of the `groundeval` command-line tool installed with the package (groundeval/bin),
    else GROUNDEVAL_CLI from the environment, else None."""
    exe = _HERE / "bin" / "groundeval"
    if exe.is_file() and os.access(exe, os.X_OK):
        return str(exe)
    env = os.environ.get("GROUNDEVAL_CLI")
    return env if env else None
