# SPDX-License-Identifier: Apache-2.0
"""The RefCOCO converters on small GENERATED inputs in the real formats: a refer-toolkit pickle
(list of refs with sentences) + COCO instances.json, and a parquet file with the lmms-lab
RefCOCO columns (image bytes, bbox, answer list, file_name, question_id). The outputs must load
in groundeval (`groundeval stats --dataset mdetr:...`) with the right expressions and boxes.
"""
import io
import json
import os
import pickle
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
try:
    import groundeval.convert  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(REPO, "python"))

from groundeval.convert import ConvertError, hf_parquet, refer  # noqa: E402


def _stats(path):
    exe = os.environ.get("GROUNDEVAL_CLI") or os.path.join(REPO, "build", "bin", "groundeval")
    if not os.access(exe, os.X_OK):
        pytest.fail(f"groundeval CLI not found at {exe}: build it or set GROUNDEVAL_CLI")
    p = subprocess.run([exe, "stats", "--dataset", f"mdetr:{path}", "--json", "-"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _refer_files(tmp_path, py2=False):
    images = [{"id": 42, "file_name": "COCO_train2014_000000000042.jpg", "width": 640,
               "height": 480},
              {"id": 7, "file_name": "COCO_train2014_000000000007.jpg", "width": 300,
               "height": 200}]
    anns = [{"id": 900, "image_id": 42, "bbox": [10.5, 20.0, 100.0, 50.0], "category_id": 1},
            {"id": 901, "image_id": 42, "bbox": [300, 100, 40, 60], "category_id": 3},
            {"id": 902, "image_id": 7, "bbox": [0, 0, 30, 30], "category_id": 1}]
    refs = [{"ref_id": 1, "ann_id": 900, "image_id": 42, "split": "val", "category_id": 1,
             "file_name": "COCO_train2014_000000000042_900.jpg",
             "sentences": [{"raw": "Man in red, left", "sent": "man in red left",
                            "tokens": ["man", "in", "red", "left"], "sent_id": 11},
                           {"raw": "left guy", "sent": "left guy", "tokens": ["left", "guy"],
                            "sent_id": 12}]},
            {"ref_id": 2, "ann_id": 901, "image_id": 42, "split": "testA", "category_id": 3,
             "sentences": [{"raw": "the car", "sent": "the car", "sent_id": 13}]},
            {"ref_id": 3, "ann_id": 902, "image_id": 7, "split": "val", "category_id": 1,
             "sentences": [{"raw": "tiny dog", "sent": "tiny dog", "sent_id": 14}]}]
    (tmp_path / "instances.json").write_text(json.dumps(
        {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "x"}]}))
    with open(tmp_path / "refs(unc).p", "wb") as f:
        pickle.dump(refs, f, protocol=2)
    return str(tmp_path / "refs(unc).p"), str(tmp_path / "instances.json")


def test_refer_toolkit_to_mdetr(tmp_path):
    refs, inst = _refer_files(tmp_path)
    out = refer.convert(refs, inst, "val", str(tmp_path / "val.json"))
    doc = json.load(open(out))
    caps = [im["caption"] for im in doc["images"]]
    assert caps == ["Man in red, left", "left guy", "tiny dog"]
    assert [a["bbox"] for a in doc["annotations"]] == [[10.5, 20.0, 100.0, 50.0]] * 2 + [
        [0.0, 0.0, 30.0, 30.0]]
    assert all(a["tokens_positive"] == [[0, len(c)]] for a, c in zip(doc["annotations"], caps))
    st = _stats(out)
    assert st["sentences"] == 3 and st["images"] == 2 and st["phrases"] == 3
    sent = refer.convert(refs, inst, "val", str(tmp_path / "s.json"), caption="sent")
    assert json.load(open(sent))["images"][0]["caption"] == "man in red left"
    with pytest.raises(ConvertError, match=r"no ref in split 'testB' \(splits: testA, val\)"):
        refer.convert(refs, inst, "testB", str(tmp_path / "x.json"))
    # the command line, and an error naming the item
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(refer.__file__))] + sys.path))
    p = subprocess.run([sys.executable, "-m", "groundeval.convert", "refer", "--refs", refs,
                        "--instances", inst, "--split", "testA", "--out",
                        str(tmp_path / "a.json")], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    broken = json.load(open(inst))
    broken["annotations"] = broken["annotations"][1:]
    (tmp_path / "instances.json").write_text(json.dumps(broken))
    with pytest.raises(ConvertError, match=r"ref 0 \(ref_id 1\): annotation 900"):
        refer.convert(refs, inst, "val", str(tmp_path / "x.json"))


def test_hf_parquet_to_mdetr(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    def jpeg(w, h):
        b = io.BytesIO()
        Image.new("RGB", (w, h), (200, 10, 10)).save(b, format="JPEG")
        return b.getvalue()

    rows = [{"image": {"bytes": jpeg(64, 48), "path": None}, "bbox": [1.0, 2.0, 30.0, 20.0],
             "answer": ["red thing on the left", "red block"], "question_id": "q1",
             "file_name": "COCO_train2014_000000000042.jpg"},
            {"image": {"bytes": jpeg(50, 40), "path": None}, "bbox": [5.0, 5.0, 10.0, 10.0],
             "answer": ["small square"], "question_id": "q2",
             "file_name": "COCO_train2014_000000000009.jpg"}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "val-00000-of-00001.parquet")
    out = hf_parquet.convert([str(tmp_path / "val-00000-of-00001.parquet")],
                             str(tmp_path / "val.json"), images_out=str(tmp_path / "img"))
    doc = json.load(open(out))
    assert [(im["caption"], im["width"], im["height"]) for im in doc["images"]] == [
        ("red thing on the left", 64, 48), ("red block", 64, 48), ("small square", 50, 40)]
    assert sorted(os.listdir(tmp_path / "img")) == ["COCO_train2014_000000000009.jpg",
                                                    "COCO_train2014_000000000042.jpg"]
    st = _stats(out)
    assert st["sentences"] == 3 and st["images"] == 2
    pq.write_table(pa.Table.from_pylist([{"bbox": [1, 2, 3, 4], "answer": ["x"]}]),
                   tmp_path / "bad.parquet")
    with pytest.raises(ConvertError, match=r"bad.parquet: missing column\(s\) image"):
        hf_parquet.convert([str(tmp_path / "bad.parquet")], str(tmp_path / "x.json"))
