# SPDX-License-Identifier: Apache-2.0
"""The `dataset` fixture of the exporter tests (GENERATED data; see exporters_support.py)."""
import json
import os
import random
import re
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exporters_support import REPO, ge  # noqa: E402


def _restyle(line: str, k: int) -> str:
    """Capitalizes the first word of a Sentences line (inside its phrase bracket when it opens
    one) and drops the final " ." of every other line."""
    m = re.match(r"(\[/EN#\S+ )?(\S)", line)
    i = m.start(2)
    line = line[:i] + line[i].upper() + line[i + 1:]
    if k % 2 and line.endswith(" ."):
        line = line[:-2]
    return line


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    """(folder, split, queries path, list of query dicts) of the generated data set."""
    root = tmp_path_factory.mktemp("exporters")
    d = root / "flickr"
    subprocess.run([sys.executable, os.path.join(REPO, "scripts", "generate_flickr30k.py"),
                    "--images", "3", "--splits", "test", "--seed", "11", str(d)], check=True,
                   capture_output=True)
    sent_dir = d / "Sentences"
    for n, f in enumerate(sorted(os.listdir(sent_dir))):
        lines = (sent_dir / f).read_text(encoding="utf-8").splitlines()
        lines = [_restyle(line, k) for k, line in enumerate(lines)]
        if n == 0:  # a non-ASCII capital inside the first phrase of the first caption
            lines[0] = re.sub(r"^(\[/EN#\S+ )(\S+)", r"\1Éric's", lines[0])
        (sent_dir / f).write_text("\n".join(lines) + "\n", encoding="utf-8")
    from PIL import Image

    os.makedirs(d / "flickr30k-images")
    rng = random.Random(3)
    for f in os.listdir(d / "Annotations"):
        xml = (d / "Annotations" / f).read_text()
        w = int(re.search(r"<width>(\d+)</width>", xml).group(1))
        h = int(re.search(r"<height>(\d+)</height>", xml).group(1))
        img = Image.frombytes("RGB", (w, h), rng.randbytes(w * h * 3))
        img.save(d / "flickr30k-images" / (f[:-4] + ".jpg"), quality=90)
    q = root / "queries.jsonl"
    ge("queries", "--dataset", f"flickr30k:{d}", "--split", "test", "--out", str(q))
    rows = [json.loads(x) for x in q.read_text(encoding="utf-8").splitlines()]
    assert rows and all(r["image_path"] for r in rows)
    return str(d), "test", str(q), rows


