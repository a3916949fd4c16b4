# SPDX-License-Identifier: Apache-2.0
"""Grounding DINO through transformers' real model code: a randomly initialised tiny
GroundingDinoForObjectDetection (ResNet backbone, 1-layer BERT text encoder, 12 queries) built
from its config, with a BERT WordPiece tokenizer over a vocabulary written by the test. Its
outputs are NOT a trained model's; the test checks the plumbing: exporter -> dumps ->
`groundeval run --grounder npy-detector` against transformers' own post-processing.

Reference per phrase: GroundingDinoProcessor.post_process_grounded_object_detection run on the
model's outputs with every token column but one set to -inf (so its score is that token's
sigmoid), once per token of the phrase (tokens from the tokenizer's own char_to_token over the
phrase span in the lower-cased, "."-ended caption), combined as Grounding DINO's COCO grounding
post-processing does (sum over the phrase's tokens / (n + 1e-6)). Tolerances: scores 2e-6
absolute, boxes 1e-3 pixel (float32 on both sides).
"""
import sys
import os
import shutil
import unicodedata

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exporters_support import match_lists, run_replay, words_of  # noqa: E402

import torch  # a missing package fails the tests (never a skip): CI installs them

from groundeval.exporters import grounding_dino, read_queries  # noqa: E402
from groundeval.exporters.queries import ExportError  # noqa: E402

SCORE_TOL, BOX_TOL = 2e-6, 1e-3


def _strip_accents(w):
    return "".join(c for c in unicodedata.normalize("NFD", w) if unicodedata.category(c) != "Mn")


@pytest.fixture(scope="module")
def tiny(dataset, tmp_path_factory):
    """A tiny random Grounding DINO saved with save_pretrained (model + processor folder)."""
    from transformers import (BertConfig, BertTokenizerFast, GroundingDinoConfig,
                              GroundingDinoForObjectDetection, GroundingDinoImageProcessor,
                              GroundingDinoProcessor, ResNetConfig)

    d = tmp_path_factory.mktemp("gdino")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(
        {_strip_accents(w) for w in words_of(dataset[3])} | {".", "'"})
    (d / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = BertTokenizerFast.from_pretrained(str(d))
    cfg = GroundingDinoConfig(
        backbone_config=ResNetConfig(embedding_size=8, hidden_sizes=[8, 16, 16, 16],
                                     depths=[1, 1, 1, 1], layer_type="basic",
                                     out_features=["stage2", "stage3", "stage4"]),
        text_config=BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1,
                               num_attention_heads=2, intermediate_size=37,
                               max_position_embeddings=64),
        d_model=32, encoder_layers=1, decoder_layers=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        encoder_attention_heads=2, decoder_attention_heads=2, num_queries=12,
        num_feature_levels=3, encoder_n_points=2, decoder_n_points=2, max_text_len=256,
        use_timm_backbone=False, backbone=None, use_pretrained_backbone=False)
    torch.manual_seed(0)
    model = GroundingDinoForObjectDetection(cfg).eval()
    proc = GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessor(size={"shortest_edge": 64,
                                                          "longest_edge": 96}),
        tokenizer=tok)
    model.save_pretrained(str(d / "model"))
    proc.save_pretrained(str(d / "model"))
    return model, proc, str(d / "model")


def _caption(sentence):
    cap = sentence.lower().strip()
    return cap if cap.endswith(".") else cap + "."


def _reference(model, proc, image, sentence, spans, size):
    """Per phrase (boxes, scores) from transformers' post-processing (module docstring)."""
    cap = _caption(sentence)
    lead = len(sentence.lower()) - len(sentence.lower().lstrip())
    inputs = proc(images=image, text=cap, return_tensors="pt")
    enc = proc.tokenizer(cap)
    assert enc["input_ids"] == inputs["input_ids"][0].tolist()
    with torch.no_grad():
        out = model(**inputs)
    per_token = {}

    def token_result(t):
        if t not in per_token:
            masked = type(out)(logits=torch.full_like(out.logits, float("-inf")),
                               pred_boxes=out.pred_boxes)
            masked.logits[..., t] = out.logits[..., t]
            per_token[t] = proc.post_process_grounded_object_detection(
                masked, inputs.input_ids, threshold=-1.0, text_threshold=0.0,
                target_sizes=[(size[1], size[0])])[0]
        return per_token[t]

    result = []
    for span in spans:
        b = len(sentence[:span[0]].lower()) - lead
        e = len(sentence[:span[1]].lower()) - lead
        tokens = sorted({t for c in range(b, e) if (t := enc.char_to_token(c)) is not None})
        assert tokens, f"no token for {cap[b:e]!r}"
        total = sum(token_result(t)["scores"] for t in tokens)
        scores = (total / (len(tokens) + 1e-6)).numpy()
        order = np.argsort(-scores, kind="stable")
        result.append((token_result(tokens[0])["boxes"].numpy()[order].tolist(),
                       scores[order].tolist()))
    return result


def test_hf_exporter_replays_like_transformers_postprocessing(dataset, tiny, tmp_path):
    model, proc, _ = tiny
    queries = read_queries(dataset[2])
    manifest = grounding_dino.export(grounding_dino.hf_forward(model, proc), queries,
                                     str(tmp_path / "dumps"))
    # Captions were capitalized / lack the final "." / hold "Éric's": the dumps hold the mapped
    # caption and replay with 0 errors.
    p, recs = run_replay(dataset, f"npy-detector:{manifest}?preset=grounding-dino",
                         tmp_path / "run")
    assert len(recs) == len(queries)
    assert [r["status"] for r in recs.values()].count("ok") == len(queries)
    from PIL import Image

    from groundeval.exporters import by_sentence

    compared = 0
    for g in by_sentence(queries):
        image = Image.open(g.image_path).convert("RGB")
        refs = _reference(model, proc, image, g.sentence, [q.span for q in g.queries],
                          g.image_size)
        for q, (ref_boxes, ref_scores) in zip(g.queries, refs):
            r = recs[q.key]
            match_lists(r["boxes"], r["scores"], ref_boxes, ref_scores, SCORE_TOL, BOX_TOL,
                        q.key)
            compared += 1
    assert compared == len(queries) >= 10
    # The non-ASCII caption went through: its dump's caption is the lower-cased one.
    first = np.load(os.path.join(os.path.dirname(manifest), os.listdir(
        os.path.dirname(manifest))[0]))
    assert bytes(first["caption_mapping"]).startswith(b"grounding-dino")


def test_dump_matching_no_query_stops_the_run(dataset, tiny, tmp_path):
    model, proc, _ = tiny
    queries = read_queries(dataset[2])
    manifest = grounding_dino.export(grounding_dino.hf_forward(model, proc), queries[:4],
                                     str(tmp_path / "dumps"))
    # A copy of a dump keyed to a sentence the data set does not have.
    lines = open(manifest, encoding="utf-8").read().splitlines()
    iid, sid, name = lines[1].split("\t")
    shutil.copy(os.path.join(tmp_path / "dumps", name), tmp_path / "dumps" / "stray.npz")
    with open(manifest, "a", encoding="utf-8") as f:
        f.write(f"{iid}\t97\tstray.npz\n")
    p, _ = run_replay(dataset, f"npy-detector:{manifest}?preset=grounding-dino",
                      tmp_path / "run", check=False)
    assert p.returncode != 0
    assert "stray.npz' matches no query" in p.stderr and f"sentence 97 of image {iid}" in p.stderr
    # Dumps for only some sentences: the first query without a dump stops the run, named.
    with open(manifest, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    p, _ = run_replay(dataset, f"npy-detector:{manifest}?preset=grounding-dino",
                      tmp_path / "run2", check=False)
    assert p.returncode != 0 and "no dump for the query image" in p.stderr


def test_cli_from_pretrained_folder_writes_the_same_dumps(dataset, tiny, tmp_path):
    import subprocess
    import sys

    model, proc, folder = tiny
    queries = read_queries(dataset[2])[:5]
    qfile = tmp_path / "q.jsonl"
    with open(dataset[2], encoding="utf-8") as src, open(qfile, "w", encoding="utf-8") as dst:
        dst.writelines(src.readlines()[:5])
    api = grounding_dino.export(grounding_dino.hf_forward(model, proc), queries,
                                str(tmp_path / "api"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(grounding_dino.__file__))] + sys.path))
    p = subprocess.run([sys.executable, "-m", "groundeval.exporters", "grounding-dino-hf",
                        "--queries", str(qfile), "--model-path", folder, "--out",
                        str(tmp_path / "cli")], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    for line in open(api, encoding="utf-8").read().splitlines()[1:]:
        name = line.split("\t")[2]
        a, c = np.load(tmp_path / "api" / name), np.load(tmp_path / "cli" / name)
        assert sorted(a.files) == sorted(c.files)
        for k in a.files:
            assert np.array_equal(a[k], c[k]), (name, k)


def test_image_of_another_size_is_an_error_naming_it(dataset, tiny, tmp_path):
    model, proc, _ = tiny
    q = read_queries(dataset[2])[0]
    bad = tmp_path / "img"
    os.makedirs(bad)
    from PIL import Image

    Image.new("RGB", (q.image_size[0] + 1, q.image_size[1])).save(bad / f"{q.image_id}.jpg")
    from groundeval.exporters.images import image_loader

    with pytest.raises(ExportError, match=f"{q.image_id}.jpg: image is"):
        grounding_dino.export(grounding_dino.hf_forward(model, proc), [q], str(tmp_path / "d"),
                              load_image=image_loader(str(bad)))
