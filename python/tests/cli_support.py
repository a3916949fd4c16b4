# SPDX-License-Identifier: Apache-2.0
"""Helpers of the Python test suite shared by its modules: the repository root and the
command-line tool the Python results are compared with. A module of its own (not conftest.py),
so that `from cli_support import ...` names exactly this file."""
import json
import os
import subprocess

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


def cli_json(*args):
    """Runs a CLI command that takes --json OUT and returns the parsed JSON."""
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        out = os.path.join(t, "out.json")
        run_cli(*args, "--json", out)
        with open(out, encoding="utf-8") as f:
            return json.load(f)
