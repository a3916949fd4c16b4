# SPDX-License-Identifier: Apache-2.0
"""MDETR and GLIP are not in transformers, and their repositories are not installable here, so
these tests run NO MDETR or GLIP code. What is real: the RoBERTa byte-level BPE tokenizer class
MDETR uses (transformers' RobertaTokenizerFast over a vocabulary and merges the test writes),
torch, the exporters and groundeval. What stands in: small random torch modules that produce
the documented output structures (MDETR: ``pred_logits`` [1, Q, 256] over 255 token slots +
"no object", ``pred_boxes`` [1, Q, 4] cxcywh normalized; GLIP: BoxList fields ``bbox`` xyxy in
network-input pixels, ``scores``, ``labels`` = 1 + phrase index), and the references, which are
this test's restatements of MDETR's PostProcessFlickr (softmax over all 256 slots, max over the
phrase's tokens, all queries sorted by score) and GLIP's flickr_post_process (resize to the
image, sort by score, group by label, [0, 0, 0, 0] appended). Tolerances: scores 1e-6, boxes
1e-3 pixel.
"""
import json
import os
import sys

import pytest
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exporters_support import ge, match_lists, run_replay  # noqa: E402

from groundeval.exporters import by_sentence, glip, mdetr, read_queries
from groundeval.exporters.dumps import PredictionsWriter
from groundeval.exporters.queries import ExportError

SCORE_TOL, BOX_TOL = 1e-6, 1e-3


def _byte_chars():
    """The byte -> printable character table of byte-level BPE (GPT-2 / RoBERTa)."""
    keep = [*range(33, 127), *range(161, 173), *range(174, 256)]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


@pytest.fixture(scope="module")
def roberta(dataset, tmp_path_factory):
    from transformers import RobertaTokenizerFast

    d = tmp_path_factory.mktemp("roberta")
    bc = _byte_chars()
    vocab, merges = {}, []
    for t in ["<s>", "<pad>", "</s>", "<unk>", "<mask>", *bc.values()]:
        vocab.setdefault(t, len(vocab))
    for r in dataset[3]:
        for i, w in enumerate(r["sentence"].split(" ")):
            for form in (w, " " + w):
                chars = [bc[b] for b in form.encode("utf-8")]
                cur = chars[0]
                for c in chars[1:]:
                    if f"{cur} {c}" not in merges:
                        merges.append(f"{cur} {c}")
                    cur += c
                    vocab.setdefault(cur, len(vocab))
    (d / "vocab.json").write_text(json.dumps(vocab))
    (d / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return RobertaTokenizerFast.from_pretrained(str(d))


class TinyMdetr(nn.Module):
    """NOT MDETR: random layers shaped like MDETR's outputs (100 -> 10 queries)."""

    def __init__(self, vocab_size, queries=10, dim=16):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, dim)
        self.patch = nn.Conv2d(3, dim, 8, 8)
        self.queries = nn.Parameter(torch.randn(queries, dim))
        self.cls = nn.Linear(dim, 256)
        self.box = nn.Linear(dim, 4)

    def forward(self, image, ids):
        q = self.queries + self.patch(image).flatten(2).mean(-1)
        logits = self.cls(q)
        logits[:, :ids.shape[1]] += q @ self.emb(ids)[0].T  # token slots depend on the text
        return {"pred_logits": logits[None], "pred_boxes": torch.sigmoid(self.box(q))[None]}


def _mdetr_reference(out, tokenizer, caption, spans, size):
    """Restated PostProcessFlickr for each phrase: (boxes, scores) ranked."""
    prob = torch.softmax(out["pred_logits"][0], -1)
    cx, cy, w, h = out["pred_boxes"][0].unbind(-1)
    boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1) * torch.tensor(
        [size[0], size[1], size[0], size[1]], dtype=torch.float32)
    enc = tokenizer(caption)
    res = []
    for b, e in spans:  # MDETR's create_positive_map: first/last token with two fallbacks
        beg = next(t for t in (enc.char_to_token(b), enc.char_to_token(b + 1),
                               enc.char_to_token(b + 2)) if t is not None)
        end = next(t for t in (enc.char_to_token(e - 1), enc.char_to_token(e - 2),
                               enc.char_to_token(e - 3)) if t is not None)
        score = prob[:, beg:end + 1].max(-1).values
        order = torch.argsort(-score, stable=True)
        res.append((boxes[order].tolist(), score[order].tolist()))
    return res


def test_mdetr_exporter_replays_like_postprocess_flickr(dataset, roberta, tmp_path):
    import torchvision.transforms.functional as TF

    torch.manual_seed(2)
    net = TinyMdetr(len(roberta)).eval()

    def forward(image, caption):
        x = TF.to_tensor(image.resize((32, 32)))[None]
        enc = roberta(caption, return_offsets_mapping=True)
        with torch.no_grad():
            out = net(x, torch.tensor([enc["input_ids"]]))
        forward.outputs[caption] = (out, x)
        return out["pred_logits"][0], out["pred_boxes"][0], enc["offset_mapping"]

    forward.outputs = {}
    queries = read_queries(dataset[2])
    manifest = mdetr.export(forward, queries, str(tmp_path / "dumps"))
    _, recs = run_replay(dataset, f"npy-detector:{manifest}?preset=mdetr", tmp_path / "run")
    assert len(recs) == len(queries)
    assert all(r["status"] == "ok" for r in recs.values())
    for g in by_sentence(queries):
        out, _ = forward.outputs[g.sentence]  # MDETR's caption is the data set's, unchanged
        refs = _mdetr_reference(out, roberta, g.sentence, [q.span for q in g.queries],
                                g.image_size)
        for q, (rb, rs) in zip(g.queries, refs):
            r = recs[q.key]
            assert len(r["boxes"]) == 10  # every query for every phrase, as MDETR ranks them
            match_lists(r["boxes"], r["scores"], rb, rs, SCORE_TOL, BOX_TOL, q.key)


def _glip_outputs(group, seed):
    """NOT GLIP: random BoxList fields for one caption (network input 64 x 48)."""
    g = torch.Generator().manual_seed(seed)
    n = 7
    xy = torch.rand(n, 2, generator=g) * torch.tensor([40.0, 30.0])
    wh = 1 + torch.rand(n, 2, generator=g) * 20
    bbox = torch.cat([xy, xy + wh], -1)
    scores = torch.rand(n, generator=g)
    labels = 1 + torch.randint(0, len(group.queries), (n,), generator=g)
    return bbox, scores, labels, (64, 48)


def _flickr_post_process(bbox, scores, labels, input_size, image_size, n_phrases):
    """Restated GLIP flickr_post_process: the dict GLIP's evaluation collects."""
    ratio = torch.tensor([image_size[0] / input_size[0], image_size[1] / input_size[1]] * 2)
    boxes = (bbox * ratio).tolist()
    s, idx = torch.topk(scores, k=len(scores), sorted=True)
    out_b = [[] for _ in range(n_phrases)]
    out_s = [[] for _ in range(n_phrases)]
    for i, sc in zip(idx.tolist(), s.tolist()):
        out_b[int(labels[i]) - 1].append(boxes[i])
        out_s[int(labels[i]) - 1].append(sc)
    for lst in out_b:
        lst.append([0.0, 0.0, 0.0, 0.0])
    return out_b, out_s


def test_glip_boxlist_and_predictions_routes(dataset, tmp_path):
    d, split, qpath, rows = dataset
    queries = read_queries(qpath)
    groups = by_sentence(queries)
    native = []
    with PredictionsWriter(str(tmp_path / "boxlist.jsonl")) as w:
        for k, g in enumerate(groups):
            bbox, scores, labels, insize = _glip_outputs(g, k)
            glip.from_boxlist(g, bbox, scores, labels, insize, w)
            b, s = _flickr_post_process(bbox, scores, labels, insize, g.image_size,
                                        len(g.queries))
            native.append({"image_id": int(g.image_id), "sentence_id": g.sentence_id,
                           "boxes": b, "scores": s})
    got = {f"{r['image_id']}/{r['sentence_id']}/{r['phrase_index']}": r
           for r in map(json.loads, open(tmp_path / "boxlist.jsonl", encoding="utf-8"))}
    for g, n in zip(groups, native):
        for q, nb, ns in zip(g.queries, n["boxes"], n["scores"]):
            r = got[q.key]
            assert r["boxes"][-1] == [0.0, 0.0, 0.0, 0.0] and r["scores"][-1] is None
            match_lists(r["boxes"][:-1], r["scores"][:-1], nb[:-1], ns, SCORE_TOL, BOX_TOL,
                        q.key)
    # GLIP's own predictions list (as its evaluation would json.dump it) -> JSON Lines: the same.
    (tmp_path / "glip.json").write_text(json.dumps(native))
    glip.from_flickr_predictions(str(tmp_path / "glip.json"), queries,
                                 str(tmp_path / "native.jsonl"))
    assert open(tmp_path / "native.jsonl").read().splitlines() == \
        open(tmp_path / "boxlist.jsonl").read().splitlines()
    # groundeval evaluates the list as is (MDETR's layout) and the JSON Lines alike.
    reps = []
    for f in ("glip.json", "native.jsonl"):
        ge("evaluate", "--dataset", f"flickr30k:{d}", "--split", split, "--predictions",
           str(tmp_path / f), "--json", str(tmp_path / (f + ".report")), "--quiet")
        reps.append(json.load(open(tmp_path / (f + ".report"))))
    assert reps[0]["recall_at"] == reps[1]["recall_at"] and reps[1]["phrases"] == len(rows)
    # A sentence whose GLIP lists do not match its evaluable phrases is an error naming it.
    native[0]["boxes"].pop()
    (tmp_path / "bad.json").write_text(json.dumps(native))
    with pytest.raises(ExportError, match=f"image {groups[0].image_id} sentence "
                                          f"{groups[0].sentence_id}, which has"):
        glip.from_flickr_predictions(str(tmp_path / "bad.json"), queries,
                                     str(tmp_path / "x.jsonl"))
