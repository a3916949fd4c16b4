# SPDX-License-Identifier: Apache-2.0
"""The README's Python example and examples/python/specialist_vs_generalist.py run as written."""
import json
import os
import re
import shutil
import subprocess
import sys

from conftest import ROOT


def readme_example():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        if "groundeval-readme-example" in block:
            return block
    raise AssertionError("README.md has no block marked groundeval-readme-example")


def test_readme_example(generated, tmp_path):
    shutil.copytree(generated["root"], tmp_path / "synthetic-flickr30k")
    p = subprocess.run([sys.executable, "-c", readme_example()], cwd=tmp_path,
                       capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "1.0", p.stdout
    assert lines[1].startswith("[("), p.stdout


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
