# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures of the Python test suite: the repository, the command-line tool the results
are compared with, and a small generated (SYNTHETIC) Flickr30k Entities data set with generated
predictions, made once per session by the repository's generator scripts."""
import json
import os
import subprocess
import sys

import pytest

# The helpers live in cli_support.py: test modules import them from there, never from
# "conftest" (python/tests/exporters has a conftest.py of its own, and pytest imports both under
# that one module name).
from cli_support import ROOT, cli_json, cli_path, run_cli  # noqa: F401


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """A SYNTHETIC data set (scripts/generate_flickr30k.py, 2% scale: about 20 test images) and
    three generated predictions files of its test split: MDETR JSON (seed 0, seed 1) and JSON
    Lines (seed 0)."""
    d = tmp_path_factory.mktemp("generated")
    data = d / "flickr"
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "generate_flickr30k.py"),
                    str(data), "--scale", "0.02"], check=True, capture_output=True)
    preds = {}
    for fmt, seed in (("mdetr", 0), ("mdetr", 1), ("jsonl", 0)):
        out = d / f"pred_{fmt}_{seed}.{'json' if fmt == 'mdetr' else 'jsonl'}"
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "generate_predictions.py"),
                        "--flickr", str(data), "--split", "test", "--format", fmt,
                        "--seed", str(seed), "--out", str(out)], check=True, capture_output=True)
        preds[(fmt, seed)] = str(out)
    return {"root": str(data), "spec": f"flickr30k:{data}", "predictions": preds, "dir": d}
