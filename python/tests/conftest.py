# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures of the Python test suite: the repository, the command-line tool the results
are compared with, and a small generated (SYNTHETIC) Flickr30k Entities data set with generated
predictions, made once per session by the repository's generator scripts."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def cli_path():
    """The CLI the Python results are compared with: GROUNDEVAL_TEST_CLI (CI: the main build's
    build/bin/groundeval), else the copy installed with the package."""
    exe = os.environ.get("GROUNDEVAL_TEST_CLI")
    if exe:
        return exe
    from groundeval._native import cli_executable
    exe = cli_executable()
    if exe is None:
        pytest.fail("no groundeval CLI to compare with: set GROUNDEVAL_TEST_CLI or install the "
                    "package with pip install .")
    return exe


def run_cli(*args):
    p = subprocess.run([cli_path(), *map(str, args)], capture_output=True, text=True, check=False)
    assert p.returncode == 0, f"groundeval {args[0]} failed ({p.returncode}): {p.stderr}"
    return p.stdout


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


def cli_json(*args):
    """Runs a CLI command that takes --json OUT and returns the parsed JSON."""
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        out = os.path.join(t, "out.json")
        run_cli(*args, "--json", out)
        with open(out, encoding="utf-8") as f:
            return json.load(f)
