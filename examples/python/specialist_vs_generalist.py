# SPDX-License-Identifier: Apache-2.0
# %% [markdown]
# # A specialist detector against a generalist VLM, on GENERATED data
#
# The study this project was started for, done with groundeval from Python: evaluate a
# specialist (a detector whose ranked boxes are replayed) and a generalist (a vision-language
# model answering in text, decoded by `parse_box`), compare them with paired statistics and
# write the HTML report.
#
# **Everything here is generated**: the data set is SYNTHETIC (scripts/generate_flickr30k.py, in
# the exact Flickr30k Entities format, no real annotation), and both "models" are simulated from
# the ground truth with seeded noise. No number below is a real model's result. With real data,
# replace the generator by `open_flickr30k("/data/flickr30k_entities")` and the two simulations by
# your detector's boxes and your VLM's answers.
#
# Run it as a script (`python examples/python/specialist_vs_generalist.py [OUT_DIR]`) or cell by
# cell in an editor that understands `# %%` cells (VS Code, PyCharm, Jupytext).

# %%
import json
import os
import random
import subprocess
import sys

import numpy as np

import groundeval

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "groundeval-python-example")
os.makedirs(OUT, exist_ok=True)

# %% [markdown]
# ## 1. A generated data set
# About 20 test images with five captions each (a 2% scale of Flickr30k Entities' layout).

# %%
data_root = os.path.join(OUT, "synthetic-flickr30k")
if not os.path.isdir(data_root):
    subprocess.run([sys.executable, os.path.join(REPO, "scripts", "generate_flickr30k.py"),
                    data_root, "--scale", "0.02"], check=True, stdout=subprocess.DEVNULL)
ds = groundeval.open_flickr30k(data_root, split="test")
stats = ds.stats()
queries = ds.queries()
print(f"{stats['images']} images, {stats['sentences']} sentences, {len(queries)} queries "
      f"(evaluable phrases); first: {queries[0].phrase!r} in {queries[0].sentence!r}")

# %% [markdown]
# ## 2. The "specialist": ranked detector boxes, de-duplicated with NMS
# Simulated: 30 candidate boxes per query around the ground truth and elsewhere in the image,
# with scores that favour boxes near the truth; `groundeval.nms` (the torchvision.ops.nms
# semantics) keeps the distinct ones, best first.

# %%
rng = np.random.default_rng(0)


def detector(q):
    w, h = q.image_size
    gt = np.array(q.boxes[0], dtype=np.float32)
    near = gt + rng.normal(0, 0.2, (15, 4)) * np.tile(gt[2:] - gt[:2], 2)
    xy = rng.uniform(0, 1, (15, 2)) * [w, h]
    far = np.concatenate([xy, xy + rng.uniform(10, 200, (15, 2))], 1)
    boxes = np.clip(np.concatenate([near, far]).astype(np.float32), 0, [w, h, w, h])
    boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
    iou_to_gt = groundeval.box_iou(boxes, gt[None])[:, 0]
    scores = (iou_to_gt + rng.normal(0, 0.6, len(boxes))).astype(np.float32)
    keep = groundeval.nms(boxes, scores, 0.5)
    return {"boxes": boxes[keep].tolist(), "scores": scores[keep].tolist()}


specialist = {q: detector(q) for q in queries}

# %% [markdown]
# ## 3. The "generalist": text answers decoded by `parse_box`
# Simulated LLaVA-1.5 answers: one box in [0, 1] of the padded square image (LLaVA's frame),
# sometimes a refusal or a malformed box. `parse_box(..., "llava", size, frame="padded")` maps
# them back to original pixels and says when an answer has no box or cannot be read.

# %%
random.seed(1)


def llava_answer(q):
    w, h = q.image_size
    side = max(w, h)
    ox, oy = (side - w) // 2, (side - h) // 2  # LLaVA pads to a square, image centred
    x1, y1, x2, y2 = q.boxes[0]
    jitter = lambda v: v + random.gauss(0, 0.035 * side)  # noqa: E731
    r = random.random()
    if r < 0.08:
        return "I'm sorry, I cannot find that in the image."
    if r < 0.12:
        return f"[{(x1 + ox) / side:.2f}, {(y1 + oy) / side:.2f}, {(x2 + ox) / side:.2f}"
    return "[" + ", ".join(f"{min(max(v / side, 0), 1):.2f}" for v in (
        jitter(x1 + ox), jitter(y1 + oy), jitter(x2 + ox), jitter(y2 + oy))) + "]"


generalist = []
statuses = {}
for q in queries:
    text = llava_answer(q)
    p = groundeval.parse_box(text, "llava", q.image_size, frame="padded")
    statuses[p.status] = statuses.get(p.status, 0) + 1
    generalist.append({"image_id": q.image_id, "sentence_id": q.sentence_id,
                       "phrase_index": q.phrase_index, "boxes": p.boxes, "status": p.status})
print("generalist answers:", statuses)

# %% [markdown]
# ## 4. Evaluate both (the numbers of `groundeval evaluate`, MDETR-exact Recall@k)

# %%
res_s = groundeval.evaluate(ds, specialist)
res_g = groundeval.evaluate(ds, generalist)
print("specialist (replayed detector)\n", res_s, sep="")
print("generalist (decoded answers)\n", res_g, sep="")
try:
    import pandas  # noqa: F401
    print(res_s.to_dataframe().round(4))
except ImportError:
    pass

# %% [markdown]
# ## 5. Paired comparison: McNemar's exact test and image-level bootstrap intervals

# %%
cmp = groundeval.compare(res_s, res_g, names=("specialist", "generalist"))
print(cmp)

# %% [markdown]
# ## 6. Run directories and the HTML report
# `replay` turns each set of predictions into a run directory with the runner of `groundeval run`
# (manifest, resumable), and `report` writes the report of `groundeval report`.

# %%
runs = [groundeval.replay(ds, specialist, os.path.join(OUT, "runs", "specialist")),
        groundeval.replay(ds, generalist, os.path.join(OUT, "runs", "generalist"))]
index = groundeval.report(runs, os.path.join(OUT, "report"),
                          title="Specialist vs generalist (GENERATED data and answers)",
                          notes=["data set and both models' answers are generated: no real "
                                 "model's result"])
print("report:", index)
with open(os.path.join(OUT, "summary.json"), "w", encoding="utf-8") as f:
    json.dump({"specialist": res_s.recall["1"]["all"], "generalist": res_g.recall["1"]["all"],
               "mcnemar_p": cmp.to_dict()["mcnemar_recall_at_1"]["p_value"]}, f)
