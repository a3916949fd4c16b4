# SPDX-License-Identifier: Apache-2.0
"""The README's Python example and examples/python/specialist_vs_generalist.py run as written."""
import json
import os
import re
import shutil
import subprocess
import sys

from cli_support import ROOT


def readme_example(marker="groundeval-readme-example"):
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        if marker in block:
            return block
    raise AssertionError(f"README.md has no block marked {marker}")


def test_readme_example(generated, tmp_path):
    shutil.copytree(generated["root"], tmp_path / "synthetic-flickr30k")
    p = subprocess.run([sys.executable, "-c", readme_example()], cwd=tmp_path,
                       capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "1.0", p.stdout
    assert lines[1].startswith("[("), p.stdout


def test_readme_run_example(generated, tmp_path):
    shutil.copytree(generated["root"], tmp_path / "synthetic-flickr30k")
    for _ in range(2):  # the second time resumes: nothing left to ask, the same numbers
        p = subprocess.run([sys.executable, "-c", readme_example("groundeval-readme-run-example")],
                           cwd=tmp_path, capture_output=True, text=True, check=False)
        assert p.returncode == 0, p.stderr
        status, recall = p.stdout.split()
        assert status == "complete" and 0 <= float(recall) < 1
    with open(tmp_path / "runs" / "whole-image" / "manifest.json", encoding="utf-8") as f:
        assert json.load(f)["grounder"] == "whole_image"


def test_notebook_example(tmp_path):
    script = os.path.join(ROOT, "examples", "python", "specialist_vs_generalist.py")
    p = subprocess.run([sys.executable, script, str(tmp_path)], capture_output=True, text=True,
                       check=False, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "McNemar" in p.stdout
    assert (tmp_path / "report" / "index.html").is_file()
    assert (tmp_path / "runs" / "specialist" / "manifest.json").is_file()
    summary = json.load(open(tmp_path / "summary.json"))
    assert 0 < summary["generalist"] < summary["specialist"] < 1
    html = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "GENERATED" in html and "SYNTHETIC" in html
