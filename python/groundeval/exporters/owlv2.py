# SPDX-License-Identifier: Apache-2.0
"""OWLv2 (transformers ``Owlv2ForObjectDetection``) → groundeval JSON Lines predictions.

OWLv2 takes one text query per phrase (the phrase alone; the CLIP tokenizer lower-cases it and
keeps at most 16 tokens, ``text_config.max_position_embeddings``), and scores every image patch
against every query: ``logits`` [patches, P]. Boxes are cxcywh normalized to the square the
processor pads the image to (bottom and right), so pixels are ``value * max(W, H)``.

Two ways to rank, recorded in each record's ``geometry``:

* ``per_phrase`` (default; the Flickr30k Entities protocol needs a ranked list per phrase): every
  patch is a candidate for every phrase, ranked by ``sigmoid(logit)`` descending, the best
  ``top_k`` kept;
* ``processor``: exactly ``Owlv2Processor.post_process_grounded_object_detection`` (each patch
  with its best query, scores above ``threshold``), grouped per phrase and ranked by score.
"""
from __future__ import annotations

from typing import Callable, Iterable, Optional

from .dumps import PredictionsWriter
from .images import image_loader
from .queries import ExportError, Query, by_sentence


def export(model, processor, queries: Iterable[Query], out_path: str, *,
           load_image: Optional[Callable] = None, mode: str = "per_phrase", top_k: int = 100,
           threshold: float = 0.1, device: str = "cpu") -> str:
    """Writes one JSON line per query into `out_path` and returns it."""
    import numpy as np
    import torch

    if mode not in ("per_phrase", "processor"):
        raise ExportError(f"unknown OWLv2 ranking mode {mode!r} (per_phrase or processor)")
    load_image = load_image or image_loader()
    limit = int(model.config.text_config.max_position_embeddings)
    with PredictionsWriter(out_path) as w:
        for g in by_sentence(queries):
            image = load_image(g)
            texts = [q.phrase for q in g.queries]
            inputs = processor(text=[texts], images=image, return_tensors="pt",
                               padding="max_length", truncation=True, max_length=limit).to(device)
            with torch.no_grad():
                out = model(**inputs)
            logits = out.logits[0].float().cpu()  # [patches, P]
            if logits.shape[1] != len(texts):
                raise ExportError(f"image {g.image_id} sentence {g.sentence_id}: "
                                  f"{logits.shape[1]} query columns for {len(texts)} phrases")
            side = float(max(g.image_size))
            cx, cy, bw, bh = out.pred_boxes[0].float().cpu().unbind(-1)
            xyxy = torch.stack([cx - 0.5 * bw, cy - 0.5 * bh, cx + 0.5 * bw, cy + 0.5 * bh], -1)
            boxes = (xyxy * side).numpy()
            probs = torch.sigmoid(logits).numpy()
            best = logits.argmax(-1).numpy()
            for p, q in enumerate(g.queries):
                s = probs[:, p]
                cand = np.arange(len(s)) if mode == "per_phrase" else \
                    np.nonzero((best == p) & (probs.max(-1) > threshold))[0]
                order = cand[np.argsort(-s[cand], kind="stable")]
                if mode == "per_phrase":
                    order = order[:top_k]
                ids = inputs["input_ids"][p].tolist() if inputs["input_ids"].dim() == 2 else []
                n_tok = sum(1 for m in inputs["attention_mask"][p].tolist() if m) \
                    if "attention_mask" in inputs else len(ids)
                w.write(q, boxes[order], [float(v) for v in s[order]],
                        raw_text=processor.tokenizer.decode(ids, skip_special_tokens=True),
                        geometry={"source": "owlv2", "mode": mode, "frame": "padded square",
                                  "side": side, "text_tokens": n_tok, "token_limit": limit,
                                  "truncated": len(processor.tokenizer(q.phrase)["input_ids"])
                                  > limit})
    return out_path
