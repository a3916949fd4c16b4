# SPDX-License-Identifier: Apache-2.0
"""Rescoring other harnesses' RefCOCO runs: an lmms-eval ``--log_samples`` file and a VLMEvalKit
result TSV (and its _detail TSV), both GENERATED here in the harnesses' real formats over a tiny
generated MDETR refexp data set, are converted (python -m groundeval.convert lmms-eval /
vlmevalkit) and scored by ``groundeval evaluate``: as the harness read the answers (no
--family), and decoded again with a family and geometry (--family F --geometry K=V). Every
expected number is computed here, independently of groundeval: IoU, LLaVA's padded square,
Qwen2.5-VL's smart_resize and the two harnesses' own readings.
"""
import csv
import json
import math
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
try:
    import groundeval.convert  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(REPO, "python"))

from groundeval.convert import ConvertError, lmms_eval_log, vlmevalkit  # noqa: E402

# The data set: (file name, width, height, [(expression, COCO x, y, w, h)]). Non-square images,
# so LLaVA's padded square and the original frame differ; the third expression of the first
# image refers to the same object as the first (same box).
IMAGES = [
    ("COCO_train2014_000000000042.jpg", 640, 480,
     [("man on the left", 40, 60, 200, 300), ("red car", 300, 200, 300, 150),
      ("leftmost guy", 40, 60, 200, 300)]),
    ("COCO_train2014_000000000007.jpg", 300, 500,
     [("thin lamp", 10, 50, 50, 400), ("the sofa", 120, 300, 170, 180)]),
    ("COCO_train2014_000000000099.jpg", 500, 375,
     [("dog", 200, 100, 150, 200)]),
]


def _cli():
    exe = (os.environ.get("GROUNDEVAL_TEST_CLI") or os.environ.get("GROUNDEVAL_CLI")
           or os.path.join(REPO, "build", "bin", "groundeval"))
    if not os.access(exe, os.X_OK):
        pytest.fail(f"groundeval CLI not found at {exe}: build it or set GROUNDEVAL_TEST_CLI")
    return exe


def _entries():
    """[(image_id, sentence_id, expression, W, H, gt xyxy)] in file order."""
    out = []
    for name, w, h, refs in IMAGES:
        for k, (expr, x, y, bw, bh) in enumerate(refs):
            out.append((os.path.splitext(name)[0], k, expr, w, h, (x, y, x + bw, y + bh)))
    return out


def _write_dataset(tmp_path):
    images, anns = [], []
    for name, w, h, refs in IMAGES:
        for expr, x, y, bw, bh in refs:
            i = len(images)
            images.append({"file_name": name, "height": h, "width": w, "id": i, "caption": expr,
                           "dataset_name": "refcoco", "tokens_negative": [[0, len(expr)]]})
            anns.append({"area": bw * bh, "iscrowd": 0, "image_id": i, "category_id": 1, "id": i,
                         "bbox": [x, y, bw, bh], "tokens_positive": [[0, len(expr)]]})
    p = tmp_path / "refcoco_val.json"
    p.write_text(json.dumps({"images": images, "annotations": anns, "categories": [
        {"id": 1, "name": "object", "supercategory": "object"}]}))
    return str(p)


def _iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _clip(b, w, h):
    x1, x2 = sorted((min(max(b[0], 0), w), min(max(b[2], 0), w)))
    y1, y2 = sorted((min(max(b[1], 0), h), min(max(b[3], 0), h)))
    return (x1, y1, x2, y2)


def _evaluate(dataset, preds, *extra):
    out = preds + ".report.json"
    p = subprocess.run([_cli(), "evaluate", "--dataset", f"mdetr:{dataset}", "--predictions",
                        preds, "--json", out, "--quiet", *extra], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    with open(out, encoding="utf-8") as f:
        return json.load(f)


def _r1(report):
    return 100.0 * report["recall_at"]["1"]["all"]


def _convert(kind, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(lmms_eval_log.__file__))] + sys.path))
    return subprocess.run([sys.executable, "-m", "groundeval.convert", kind, *map(str, args)],
                          capture_output=True, text=True, env=env)


# ---- lmms-eval -----------------------------------------------------------------------------

def _llava_answer(gt, w, h, shift=0.0):
    """What LLaVA-1.5 writes for a box: [x1, y1, x2, y2] as fractions of its padded square
    (expand2square: side S = max(W, H), image pasted at ((S-W)//2, (S-H)//2)), 2 decimals;
    `shift` moves the box right by that fraction of S."""
    s = max(w, h)
    ox, oy = (s - w) // 2, (s - h) // 2
    v = [(gt[0] + ox) / s + shift, (gt[1] + oy) / s, (gt[2] + ox) / s + shift, (gt[3] + oy) / s]
    return "[" + ", ".join(f"{x:.2f}" for x in v) + "]"


def _lmms_pred(text):
    """lmms-eval's reading in process_results: the first [a, b, c, d] (floats), else zeros."""
    m = re.search(r"\[\s*(-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?),\s*"
                  r"(-?\d+(?:\.\d+)?)\s*\]", text)
    return [float(m.group(i)) for i in range(1, 5)] if m else [0, 0, 0, 0]


def _lmms_answers():
    ents = _entries()
    answers = []
    for n, (_, _, _, w, h, gt) in enumerate(ents):
        if n == 4:
            answers.append("I cannot find the sofa in this image.")
        elif n == 2:
            answers.append(_llava_answer(gt, w, h, shift=0.3))  # a wrong box
        else:
            answers.append(_llava_answer(gt, w, h))
    return answers


def _write_lmms_log(tmp_path, old_format=False):
    """A refcoco_bbox_rec_val sample log as lmms-eval writes it: since 0.4 one JSON object per
    line without 'doc', the flattened filtered_resps, and the metric dicts; before 2024-09 one
    JSON document {"args", "model_configs", "logs": [samples with 'doc']}. Samples are written
    in an order other than the data set's."""
    ents = _entries()
    answers = _lmms_answers()
    samples = []
    order = [3, 0, 5, 1, 4, 2]
    for doc_id, n in enumerate(order):
        image_id, _, expr, w, h, gt = ents[n]
        norm = [gt[0] / w, gt[1] / h, gt[2] / w, gt[3] / h]
        qid = f"{image_id}_{n}"
        rec = {"answer": expr, "pred": _lmms_pred(answers[n]), "ann_id": qid, "bbox": norm}
        prompt = ("Bounding box coordinates are specified in the format (top-left x, top-left y, "
                  "bottom-right x, bottom-right y). All values are floating point numbers "
                  "bounded between 0 and 1. Please provide the bounding box coordinate of the "
                  "region this sentence describes: " + expr)
        s = {"doc_id": doc_id, "target": str(norm), "filtered_resps": answers[n],
             "token_counts": [None], "doc_hash": f"{doc_id:064x}", "input": prompt}
        if old_format:
            s["doc"] = {"question_id": qid, "answer": expr, "bbox": norm, "image_width": w,
                        "image_height": h, "file_name": image_id + ".jpg", "iscrowd": 0}
            s["arguments"] = {"0": {"max_new_tokens": 128}}
            s["resps"] = [[answers[n]]]
            s["filtered_resps"] = [answers[n]]
        for m in ("IoU", "ACC@0.1", "ACC@0.3", "ACC@0.5", "ACC@0.7", "ACC@0.9", "Center_ACC"):
            s[f"refcoco_{m}"] = rec
        samples.append(s)
    if old_format:
        p = tmp_path / "refcoco_bbox_rec_val.json"
        p.write_text(json.dumps({"args": {"model": "llava"}, "model_configs": {},
                                 "logs": samples, "time": "0"}, indent=4))
    else:
        p = tmp_path / "20261204_120000_samples_refcoco_bbox_rec_val.jsonl"
        p.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples))
    return str(p)


def _expected_lmms(answers):
    """R@1 (%) of lmms-eval's reading (fractions of the original image) and of LLaVA's padded
    frame, computed here."""
    ents = _entries()
    own = padded = 0
    for (_, _, _, w, h, gt), text in zip(ents, answers):
        p = _lmms_pred(text)
        own += _iou([p[0] * w, p[1] * h, p[2] * w, p[3] * h], gt) >= 0.5
        s = max(w, h)
        ox, oy = (s - w) // 2, (s - h) // 2
        if "[" in text:
            b = _clip([p[0] * s - ox, p[1] * s - oy, p[2] * s - ox, p[3] * s - oy], w, h)
            padded += _iou(b, gt) >= 0.5
    return 100.0 * own / len(ents), 100.0 * padded / len(ents)


@pytest.mark.parametrize("old_format", [False, True])
def test_lmms_eval_log_rescored(tmp_path, old_format):
    dataset = _write_dataset(tmp_path)
    log = _write_lmms_log(tmp_path, old_format)
    out = tmp_path / "lmms.jsonl"
    p = _convert("lmms-eval", log, "--dataset", dataset, "--out", out)
    assert p.returncode == 0, p.stderr
    assert "6 rows written" in p.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    ents = {(e[0], e[1]): e for e in _entries()}
    answers = _lmms_answers()
    for r in rows:  # each row went to its own entry, with its own raw answer
        e = ents[(r["image_id"], r["sentence_id"])]
        assert r["phrase"] == e[2]
        assert r["raw_text"] == answers[_entries().index(e)]
        assert r["geometry"]["decoded_by"] == "lmms-eval"
    own, padded = _expected_lmms(answers)
    assert own != padded  # the fixture must tell the two frames apart
    assert _r1(_evaluate(dataset, str(out))) == pytest.approx(own)
    assert _r1(_evaluate(dataset, str(out), "--family", "llava")) == pytest.approx(padded)
    # lmms-eval's reading is LLaVA's family with the original frame
    rep = _evaluate(dataset, str(out), "--family", "llava", "--geometry", "frame=original")
    assert _r1(rep) == pytest.approx(own)
    assert rep["rescored"].startswith("family llava frame=original, 6 records decoded")
    assert rep["answers"]["empty"] == 1  # the answer without a box


def test_lmms_eval_errors(tmp_path):
    dataset = _write_dataset(tmp_path)
    log = tmp_path / "x.jsonl"
    log.write_text(json.dumps({"doc_id": 0, "filtered_resps": "[0.1, 0.1, 0.2, 0.2]",
                               "refcoco_IoU": {"answer": "cat", "pred": [0.1, 0.1, 0.2, 0.2],
                                               "ann_id": 1, "bbox": [0.5, 0.5, 0.6, 0.6]}})
                   + "\n")
    with pytest.raises(ConvertError, match=r"x.jsonl:1: no unused entry .* for 'cat'"):
        lmms_eval_log.convert(str(log), dataset, str(tmp_path / "o.jsonl"))
    s = lmms_eval_log.convert(str(log), dataset, str(tmp_path / "o.jsonl"), skip_unmatched=True)
    assert (s.rows, s.skipped) == (0, 1)
    log.write_text(json.dumps({"doc_id": 0, "filtered_resps": "[1, 2, 3, 4]",
                               "refcoco_grounding_IoU": {"answer": ["a", "b"], "pred_boxes": [],
                                                         "pred": [0, 0, 0, 0],
                                                         "bbox": [1, 2, 3, 4], "ann_id": 3}})
                   + "\n")
    with pytest.raises(ConvertError, match="refcoco_grounding.*not supported"):
        lmms_eval_log.convert(str(log), dataset, str(tmp_path / "o.jsonl"))
    log.write_text('{"doc_id": 0, "filtered_resps": "x"}\n')
    p = _convert("lmms-eval", log, "--dataset", dataset, "--out", tmp_path / "o.jsonl")
    assert p.returncode == 1 and "no ground-truth box" in p.stderr


# ---- VLMEvalKit ----------------------------------------------------------------------------

def _smart_resize(h, w, factor=28, min_pixels=3136, max_pixels=12845056):
    """Qwen2.5-VL's smart_resize (qwen-vl-utils vision_process.py), written out here."""
    hb = max(factor, round(h / factor) * factor)
    wb = max(factor, round(w / factor) * factor)
    if hb * wb > max_pixels:
        beta = math.sqrt((h * w) / max_pixels)
        hb = math.floor(h / beta / factor) * factor
        wb = math.floor(w / beta / factor) * factor
    elif hb * wb < min_pixels:
        beta = math.sqrt(min_pixels / (h * w))
        hb = math.ceil(h * beta / factor) * factor
        wb = math.ceil(w * beta / factor) * factor
    return hb, wb


def _qwen25_answer(gt, w, h, expr):
    """What Qwen2.5-VL writes: JSON with bbox_2d in pixels of its smart-resized input."""
    hb, wb = _smart_resize(h, w)
    v = [round(gt[0] * wb / w), round(gt[1] * hb / h), round(gt[2] * wb / w),
         round(gt[3] * hb / h)]
    return '```json\n[\n\t{"bbox_2d": [%d, %d, %d, %d], "label": "%s"}\n]\n```' % (*v, expr)


def _vlmek_answer(n, gt, w, h, expr):
    """The fixture's answers: Qwen2.5-VL's pixels, no box for entry 1, and for entry 5 a box in
    0-1000 of the image (as a prompt asking for 0-1000 gets), which only a 0-1000 reading gets
    right."""
    if n == 1:
        return "I do not see it."
    if n == 5:
        v = [round(gt[0] * 1000 / w), round(gt[1] * 1000 / h), round(gt[2] * 1000 / w),
             round(gt[3] * 1000 / h)]
        return '{"bbox_2d": [%d, %d, %d, %d], "label": "%s"}' % (*v, expr)
    return _qwen25_answer(gt, w, h, expr)


def _vlmek_reading(text):
    """VLMEvalKit's reading (RefCOCODataset._parse_prediction / _to_absolute) with the loader's
    width = height = 1.0 (the TSV has no size columns): fractions when max |v| <= 1.5, /1000
    when <= 1000, else as is; clipped to [0, 1], corners put in order."""
    num = r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?"
    sep = r"(?:\s*,\s*|\s+)"
    m = re.search(rf"\[\s*({num}){sep}({num}){sep}({num}){sep}({num})\s*\]", text)
    if m:
        v = [float(m.group(i)) for i in range(1, 5)]
    else:
        found = re.findall(num, text)
        if len(found) < 4:
            return None
        v = [float(x) for x in found[:4]]
    mx = max(abs(x) for x in v)
    if 1.5 < mx <= 1000:
        v = [x / 1000 for x in v]
    return list(_clip(v, 1.0, 1.0))


def _write_vlmek(tmp_path, detail):
    """<model>_RefCOCO.tsv as VLMEvalKit's inference writes it (pandas to_csv, tab, every field
    quoted; the loaded table without 'image', plus 'prediction'), for the RefCOCO_val rows plus
    one RefCOCO+_val row of an image of another split; with `detail`, the evaluation's _detail
    file (pred_bbox, iou, hit added)."""
    ents = _entries()
    cols = ["index", "question", "answer", "category", "split", "dataset", "width", "height",
            "bbox_x1_norm", "bbox_y1_norm", "bbox_x2_norm", "bbox_y2_norm", "bbox_x1", "bbox_y1",
            "bbox_x2", "bbox_y2", "prediction"]
    if detail:
        cols += ["pred_bbox", "iou", "hit"]
    rows = []
    for n, (_, _, expr, w, h, gt) in enumerate(ents):
        norm = [gt[0] / w, gt[1] / h, gt[2] / w, gt[3] / h]
        pred = _vlmek_answer(n, gt, w, h, expr)
        rows.append((n, expr, norm, "RefCOCO val", pred))
    rows.append((900, "purple elephant", [0.1, 0.1, 0.2, 0.2], "RefCOCO+ val",
                 '{"bbox_2d": [10, 10, 20, 20]}'))
    path = tmp_path / ("Qwen2.5-VL-7B_RefCOCO_detail.tsv" if detail else
                       "Qwen2.5-VL-7B_RefCOCO.tsv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        wr = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_ALL)
        wr.writerow(cols)
        for idx, expr, norm, cat, pred in reversed(rows):
            split = cat.replace(" val", "_val")
            a = [round(v, 6) for v in norm]
            rec = [f"{split}_{idx}",
                   "Please provide the bounding box coordinate of the region this sentence "
                   f"describes: <ref>{expr}</ref>", "[" + ", ".join(f"{v:.6f}" for v in a) + "]",
                   cat, split, split, 1.0, 1.0, *a, *a, pred]
            if detail:
                r = _vlmek_reading(pred)
                iou = _iou(r, a) if r else 0.0
                rec += ["" if r is None else "[" + ", ".join(f"{v:.6f}" for v in r) + "]",
                        iou, int(iou >= 0.5)]
            wr.writerow(rec)
    return str(path)


def _expected_vlmek():
    """R@1 (%) of VLMEvalKit's reading and of Qwen2.5-VL's frame, computed here."""
    ents = _entries()
    own = right = 0
    for n, (_, _, expr, w, h, gt) in enumerate(ents):
        text = _vlmek_answer(n, gt, w, h, expr)
        if "bbox_2d" not in text:
            continue
        r = _vlmek_reading(text)
        # the _detail file's 6 decimals, scaled back to the image
        r = [round(r[0], 6) * w, round(r[1], 6) * h, round(r[2], 6) * w, round(r[3], 6) * h]
        own += _iou(r, gt) >= 0.5
        hb, wb = _smart_resize(h, w)
        v = [int(x) for x in re.findall(r"\d+", text.split("bbox_2d")[1])[:4]]
        right += _iou(_clip([v[0] * w / wb, v[1] * h / hb, v[2] * w / wb, v[3] * h / hb], w, h),
                      gt) >= 0.5
    return 100.0 * own / len(ents), 100.0 * right / len(ents)


def test_vlmevalkit_tsv_rescored(tmp_path):
    dataset = _write_dataset(tmp_path)
    detail = _write_vlmek(tmp_path, detail=True)
    out = tmp_path / "vlmek.jsonl"
    p = _convert("vlmevalkit", detail, "--dataset", dataset, "--out", out, "--split",
                 "RefCOCO_val")
    assert p.returncode == 0, p.stderr
    assert "6 rows written (6 matched by box and expression, 0 by box only)" in p.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["geometry"]["split"] for r in rows} == {"RefCOCO_val"}
    own, right = _expected_vlmek()
    assert own != right  # absolute pixels read as 0-1000 by VLMEvalKit's magnitude rule
    assert _r1(_evaluate(dataset, str(out))) == pytest.approx(own)
    assert _r1(_evaluate(dataset, str(out), "--family", "qwen2.5-vl")) == pytest.approx(right)
    # Qwen3-VL's 0-1000 reading of the same text is VLMEvalKit's here
    assert _r1(_evaluate(dataset, str(out), "--family", "qwen3-vl")) == pytest.approx(own)
    # a smaller max_pixels is another frame: another number
    small = _r1(_evaluate(dataset, str(out), "--family", "qwen2.5-vl", "--geometry",
                          "max_pixels=50176"))
    assert small != pytest.approx(right)
    # PRED_FORMAT=json: the same table as a list of records, the same rows
    with open(detail, encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f, delimiter="\t"))
    (tmp_path / "d.json").write_text(json.dumps(records, indent=4))
    vlmevalkit.convert(str(tmp_path / "d.json"), dataset, str(tmp_path / "j.jsonl"),
                       split="RefCOCO_val")
    assert (tmp_path / "j.jsonl").read_text() == out.read_text()
    # the result file (no _detail): the same raw answers, no VLMEvalKit box
    res = _write_vlmek(tmp_path, detail=False)
    s = vlmevalkit.convert(res, dataset, str(tmp_path / "r.jsonl"), split="RefCOCO_val")
    assert s.rows == 6
    assert _r1(_evaluate(dataset, str(tmp_path / "r.jsonl"))) == 0.0
    assert _r1(_evaluate(dataset, str(tmp_path / "r.jsonl"), "--family", "qwen2.5-vl")) == \
        pytest.approx(right)


def test_vlmevalkit_errors(tmp_path):
    dataset = _write_dataset(tmp_path)
    res = _write_vlmek(tmp_path, detail=False)
    with pytest.raises(ConvertError, match=r"line \d+: no unused entry .*'purple elephant'"):
        vlmevalkit.convert(res, dataset, str(tmp_path / "o.jsonl"))  # the RefCOCO+ row
    s = vlmevalkit.convert(res, dataset, str(tmp_path / "o.jsonl"), skip_unmatched=True)
    assert (s.rows, s.skipped) == (6, 1)
    with pytest.raises(ConvertError, match=r"no row of split 'RefCOCO_testA' \(splits: "
                                           r"RefCOCO\+_val, RefCOCO_val\)"):
        vlmevalkit.convert(res, dataset, str(tmp_path / "o.jsonl"), split="RefCOCO_testA")
    # .xlsx without openpyxl: the error says what to install (None in sys.modules: ImportError)
    (tmp_path / "r.xlsx").write_bytes(b"PK")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "openpyxl", None)
        with pytest.raises(ConvertError, match=r"needs openpyxl \(pip install openpyxl\)"):
            vlmevalkit.convert(str(tmp_path / "r.xlsx"), dataset, str(tmp_path / "o.jsonl"))


def test_vlmevalkit_xlsx(tmp_path):
    """VLMEvalKit's default result format: the same table as .xlsx converts to the same rows
    (openpyxl is pinned in python/requirements-exporters.txt)."""
    openpyxl = pytest.importorskip("openpyxl")
    dataset = _write_dataset(tmp_path)
    tsv = _write_vlmek(tmp_path, detail=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    with open(tsv, encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t")):
            # numbers as numbers, as pandas writes them
            ws.append([v if n == 0 or not re.fullmatch(r"-?\d+(\.\d+)?", v) else float(v)
                       for v in row])
    wb.save(tmp_path / "Qwen2.5-VL-7B_RefCOCO_detail.xlsx")
    vlmevalkit.convert(tsv, dataset, str(tmp_path / "t.jsonl"), split="RefCOCO_val")
    vlmevalkit.convert(str(tmp_path / "Qwen2.5-VL-7B_RefCOCO_detail.xlsx"), dataset,
                       str(tmp_path / "x.jsonl"), split="RefCOCO_val")
    t = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    x = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text().splitlines()]
    assert len(t) == 6 and x == t


def test_rescoring_needs_raw_text(tmp_path):
    """evaluate --family refuses a record with boxes and no raw_text, naming its line."""
    dataset = _write_dataset(tmp_path)
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"image_id": "COCO_train2014_000000000099", "sentence_id": 0,
                                 "phrase_index": 0, "boxes": [[200, 100, 350, 300]],
                                 "status": "ok"}) + "\n")
    p = subprocess.run([_cli(), "evaluate", "--dataset", f"mdetr:{dataset}", "--predictions",
                        str(preds), "--family", "qwen3-vl", "--missing-as-miss"],
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert "p.jsonl:1" in p.stderr and "no raw_text" in p.stderr
