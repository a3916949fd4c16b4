# SPDX-License-Identifier: Apache-2.0
"""RefCOCO-format (MDETR JSON) runs through the command line, on a hand-written fixture that is
NOT RefCOCO data (two expressions on two real JPEG photographs copied from data/demo-photos):

  images  `run --dataset mdetr:FILE --images DIR` records the image folder; `report` on that run
          draws its overlays from the real JPEG files; an `openai:` run without --images, or with
          a folder that lacks the images, stops before the run with the path it tried
  giou    `evaluate --match giou` is MDETR's RefExp rule (GIoU >= 0.5): a box at IoU 0.5065 and
          GIoU 0.4600 is a hit with --match iou (the default) and a miss with --match giou; the
          criterion is in the table and the JSON

usage: check_refexp.py CASE GROUNDEVAL_BINARY SOURCE_DIR WORK_DIR. Standard library only.
"""
import json
import os
import shutil
import subprocess
import sys


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(args, expect=0):
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if p.returncode != expect:
        fail("%s exited %d (expected %d)\nstdout: %s\nstderr: %s"
             % (" ".join(args), p.returncode, expect, p.stdout, p.stderr))
    return p


def write_fixture(work, src):
    """Two expressions on two photographs (512x512 and 640x427, as their JPEG headers say)."""
    images = os.path.join(work, "train2014")
    os.makedirs(images, exist_ok=True)
    names = {}
    for k, photo in enumerate(("astronaut.jpg", "rocket.jpg")):
        name = "COCO_train2014_%012d.jpg" % (k + 1)
        shutil.copy(os.path.join(src, "data", "demo-photos", "flickr30k-images", photo),
                    os.path.join(images, name))
        names[k] = name
    doc = {
        "info": {"description": "groundeval test fixture in MDETR's finetune_refcoco_<split>.json "
                                "layout; not RefCOCO data"},
        "images": [
            {"file_name": names[0], "height": 512, "width": 512, "id": 1, "original_id": 1,
             "caption": "the person", "dataset_name": "refcoco", "tokens_negative": [[0, 3]]},
            {"file_name": names[1], "height": 427, "width": 640, "id": 2, "original_id": 2,
             "caption": "the rocket", "dataset_name": "refcoco", "tokens_negative": [[0, 3]]},
        ],
        "annotations": [
            {"area": 100.0, "iscrowd": 0, "image_id": 1, "category_id": 1, "id": 10,
             "bbox": [0, 0, 10, 10], "tokens_positive": [[0, 10]]},
            {"area": 100.0, "iscrowd": 0, "image_id": 2, "category_id": 1, "id": 11,
             "bbox": [0, 0, 10, 10], "tokens_positive": [[0, 10]]},
        ],
        "categories": [{"supercategory": "object", "id": 1, "name": "object"}],
    }
    path = os.path.join(work, "finetune_refcoco_testA.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path, images, names


def write_predictions(work, names, box_of):
    """JSON Lines predictions, one ranked box per expression."""
    path = os.path.join(work, "preds.jsonl")
    with open(path, "w") as f:
        for k, name in names.items():
            f.write(json.dumps({"image_id": os.path.splitext(name)[0], "sentence_id": 0,
                                "phrase_index": 0, "boxes": [box_of(k)], "scores": [1.0],
                                "status": "ok"}) + "\n")
    return path


def case_images(exe, src, work):
    ann, images, names = write_fixture(work, src)
    # two runs that disagree on every phrase (the ground truth replayed, and a centred box), so
    # the report has qualitative cases to draw
    truth = write_predictions(work, names, lambda k: [0, 0, 10, 10])
    runs = []
    for name, spec in (("truth", "predictions:" + truth), ("center", "center")):
        out = os.path.join(work, name)
        run([exe, "run", "--dataset", "mdetr:" + ann, "--images", images, "--grounder", spec,
             "--out", out, "--quiet"])
        manifest = json.load(open(os.path.join(out, "manifest.json")))
        if "?images=" + os.path.abspath(images) not in json.dumps(manifest):
            fail("the manifest does not record the image folder: %s" % json.dumps(manifest)[:400])
        runs.append(out)
    rep = os.path.join(work, "report")
    run([exe, "report"] + runs + ["--out", rep, "--quiet"])
    pngs = [f for _, _, fs in os.walk(rep) for f in fs if f.endswith(".png")]
    if not pngs:
        fail("report drew no overlay from the JPEG files: %s" % sorted(os.listdir(rep)))
    spec = "openai:http://127.0.0.1:9/v1?model=m&family=pixel"
    p = run([exe, "run", "--dataset", "mdetr:" + ann, "--grounder", spec, "--out",
             os.path.join(work, "noimages")], expect=1)
    if "no image folder" not in p.stderr or "--images DIR" not in p.stderr:
        fail("without --images: %s" % p.stderr)
    empty = os.path.join(work, "empty")
    os.makedirs(empty, exist_ok=True)
    p = run([exe, "run", "--dataset", "mdetr:" + ann, "--images", empty, "--grounder", spec,
             "--out", os.path.join(work, "wrongimages")], expect=1)
    tried = os.path.join(os.path.abspath(empty), os.path.splitext(names[0])[0] + ".jpg")
    if tried not in p.stderr:
        fail("with a wrong --images the error does not name %s: %s" % (tried, p.stderr))
    for d in ("noimages", "wrongimages"):
        if os.path.exists(os.path.join(work, d, "predictions.jsonl")):
            fail("a run that stopped before starting wrote predictions into " + d)
    print("ok: images")


def case_giou(exe, src, work):
    ann, _, names = write_fixture(work, src)
    # ground truth [0, 0, 10, 10]; the prediction [1.8, 1.8, 11.8, 11.8]: IoU 67.24 / 132.76 =
    # 0.5065 (a hit at 0.5), GIoU 0.5065 - (139.24 - 132.76) / 139.24 = 0.4600 (a miss)
    preds = write_predictions(
        work, names, lambda k: [1.8, 1.8, 11.8, 11.8] if k == 0 else [0, 0, 10, 10])
    results = {}
    for match in ("iou", "giou"):
        js = os.path.join(work, match + ".json")
        p = run([exe, "evaluate", "--dataset", "mdetr:" + ann, "--predictions", preds,
                 "--match", match, "--json", js])
        want = "hit when GIoU >= 0.5" if match == "giou" else "hit when IoU >= 0.5"
        if want not in p.stdout:
            fail("--match %s: the table does not say '%s':\n%s" % (match, want, p.stdout))
        results[match] = json.load(open(js))
    r_iou = results["iou"]["recall_at"]["1"]["all"]
    r_giou = results["giou"]["recall_at"]["1"]["all"]
    if results["giou"].get("match") != "giou" or results["iou"].get("match") != "iou":
        fail("the JSON does not record the criterion")
    if r_iou != 1.0 or r_giou != 0.5:
        fail("R@1 with iou %r (want 1.0), with giou %r (want 0.5)" % (r_iou, r_giou))
    p = run([exe, "evaluate", "--dataset", "mdetr:" + ann, "--predictions", preds, "--match",
             "dice"], expect=1)
    if "--match must be iou or giou" not in p.stderr:
        fail("--match dice: %s" % p.stderr)
    print("ok: giou")


def main():
    if len(sys.argv) != 5:
        fail(__doc__)
    case, exe, src, work = sys.argv[1:]
    work = os.path.join(work, case)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    {"images": case_images, "giou": case_giou}[case](exe, src, work)


if __name__ == "__main__":
    main()
