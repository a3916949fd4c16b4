# SPDX-License-Identifier: Apache-2.0
"""OWLv2 through transformers' real model code: a randomly initialised tiny
Owlv2ForObjectDetection (1-layer ViT on 32x32 inputs, 16 patches; 1-layer text encoder with the
real 16-token limit) built from its config, with a CLIP BPE tokenizer whose vocabulary and merges
the test writes. Outputs are NOT a trained model's.

Reference: Owlv2Processor.post_process_grounded_object_detection (each patch labelled with its
best query), target size = the original (height, width), as transformers documents. The exporter's
``processor`` mode must equal it exactly (boxes 1e-3 pixel, scores 1e-6); its ``per_phrase``
lists (every patch ranked for every phrase) must contain it. The JSON Lines then go through
`groundeval evaluate` and `run --grounder predictions:` with every query found once.
"""
import json
import sys
import os

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exporters_support import ge, match_lists, run_replay, words_of  # noqa: E402

from groundeval.exporters import by_sentence, owlv2, read_queries
from groundeval.exporters.images import image_loader

SCORE_TOL, BOX_TOL = 1e-6, 1e-3


@pytest.fixture(scope="module")
def tiny(dataset, tmp_path_factory):
    from transformers import (CLIPTokenizerFast, Owlv2Config, Owlv2ForObjectDetection,
                              Owlv2ImageProcessor, Owlv2Processor)

    d = tmp_path_factory.mktemp("owl")
    vocab, merges = {}, []

    def add(t):
        vocab.setdefault(t, len(vocab))

    for c in "abcdefghijklmnopqrstuvwxyz0123456789.,'":
        add(c), add(c + "</w>")
    for w in words_of(dataset[3]):
        if not w.isascii() or len(w) < 2:
            continue
        parts = list(w[:-1]) + [w[-1] + "</w>"]
        cur = parts[0]
        for p in parts[1:]:
            if f"{cur} {p}" not in merges:
                merges.append(f"{cur} {p}")
            cur += p
            add(cur)
    add("<|startoftext|>"), add("<|endoftext|>")
    (d / "vocab.json").write_text(json.dumps(vocab))
    (d / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tok = CLIPTokenizerFast.from_pretrained(str(d))
    cfg = Owlv2Config(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=37, max_position_embeddings=16,
                         bos_token_id=vocab["<|startoftext|>"],
                         eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"]),
        vision_config=dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=37, image_size=32, patch_size=8),
        projection_dim=32)
    torch.manual_seed(1)
    model = Owlv2ForObjectDetection(cfg).eval()
    proc = Owlv2Processor(image_processor=Owlv2ImageProcessor(size={"height": 32, "width": 32}),
                          tokenizer=tok)
    return model, proc


def _processor_reference(model, proc, group, image):
    inputs = proc(text=[[q.phrase for q in group.queries]], images=image, return_tensors="pt",
                  padding="max_length", truncation=True, max_length=16)
    with torch.no_grad():
        out = model(**inputs)
    r = proc.post_process_grounded_object_detection(out, threshold=0.1,
                                                    target_sizes=[(group.image_size[1],
                                                                   group.image_size[0])])[0]
    per = []
    for p in range(len(group.queries)):
        keep = (r["labels"] == p).numpy()
        s, b = r["scores"].numpy()[keep], r["boxes"].numpy()[keep]
        order = np.argsort(-s, kind="stable")
        per.append((b[order].tolist(), s[order].tolist()))
    return per, out.logits.shape[1]


def test_owlv2_exporter_equals_the_processor(dataset, tiny, tmp_path):
    model, proc = tiny
    queries = read_queries(dataset[2])
    proc_file = owlv2.export(model, proc, queries, str(tmp_path / "proc.jsonl"), mode="processor")
    top_file = owlv2.export(model, proc, queries, str(tmp_path / "top.jsonl"), top_k=1000)
    got = {m: {f"{r['image_id']}/{r['sentence_id']}/{r['phrase_index']}": r
               for r in map(json.loads, open(f, encoding="utf-8"))}
           for m, f in (("processor", proc_file), ("per_phrase", top_file))}
    load = image_loader()
    nonempty = 0
    for g in by_sentence(queries):
        refs, patches = _processor_reference(model, proc, g, load(g))
        for q, (rb, rs) in zip(g.queries, refs):
            r = got["processor"][q.key]
            match_lists(r["boxes"], r["scores"], rb, rs, SCORE_TOL, BOX_TOL, q.key)
            nonempty += bool(rb)
            t = got["per_phrase"][q.key]
            assert len(t["boxes"]) == patches  # every patch ranked for every phrase
            for b, s in zip(rb, rs):  # the processor's boxes are among them, same scores
                assert any(abs(s - ts) <= SCORE_TOL and
                           max(abs(x - y) for x, y in zip(b, tb)) <= BOX_TOL
                           for tb, ts in zip(t["boxes"], t["scores"])), q.key
            assert t["raw_text"] and t["geometry"]["token_limit"] == 16
    assert nonempty >= 3  # the comparison saw real boxes, not only empty lists


def test_owlv2_predictions_evaluate_every_query_once(dataset, tiny, tmp_path):
    model, proc = tiny
    d, split, qpath, rows = dataset
    f = owlv2.export(model, proc, read_queries(qpath), str(tmp_path / "p.jsonl"), top_k=5)
    ge("evaluate", "--dataset", f"flickr30k:{d}", "--split", split, "--predictions", f,
           "--json", str(tmp_path / "r.json"), "--quiet")
    rep = json.load(open(tmp_path / "r.json"))
    assert rep["phrases"] == len(rows)
    assert sum(v for k, v in rep["warnings"].items() if isinstance(v, int)) == 0, rep["warnings"]
    _, recs = run_replay(dataset, f"predictions:{f}", tmp_path / "run")
    assert len(recs) == len(rows) and all(r["status"] == "ok" for r in recs.values())
