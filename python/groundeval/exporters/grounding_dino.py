# SPDX-License-Identifier: Apache-2.0
"""Grounding DINO → npy-detector dumps (replay with ``preset=grounding-dino``).

Two model sources, one exporter:

* Hugging Face transformers (``GroundingDinoForObjectDetection`` + ``GroundingDinoProcessor``):
  ``hf_forward(model, processor)``.
* The official repository (IDEA-Research/GroundingDINO, ``groundingdino.models``): its model
  returns the same ``pred_logits`` [1, 900, 256] / ``pred_boxes`` [1, 900, 4] dict for
  ``model(image[None], captions=[caption])`` and tokenizes with ``model.tokenizer``:
  ``official_forward(model, transform)``.

Each caption is mapped as GroundingDINO's ``preprocess_caption`` does (lower-case, strip, "."
ended); the dump records that caption, the phrase spans in it and the tokens the model kept
(at most ``max_text_len``, 256), so the replay's spans always line up.
"""
from __future__ import annotations

from typing import Callable, Iterable, List, Optional, Sequence, Tuple

from . import captions
from .dumps import DumpWriter
from .images import image_loader
from .queries import ExportError, Query, by_sentence

# forward(image, caption) -> (pred_logits [Q, T], pred_boxes [Q, 4], token offsets of the
# tokens the model saw, in code points of `caption`)
Forward = Callable[[object, str], Tuple[object, object, List[Tuple[int, int]]]]


def _kept_offsets(tokenizer, caption: str, limit: int, model_ids: Optional[Sequence[int]] = None):
    enc = tokenizer(caption, return_offsets_mapping=True)
    ids, offsets = list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]
    if model_ids is not None and list(model_ids) != ids:
        raise ExportError(f"caption {caption!r}: the tokenizer's ids differ from the model "
                          f"input's, so its offsets would not describe what the model read")
    return offsets[:limit]


def hf_forward(model, processor, device: str = "cpu") -> Forward:
    """The forward pass of a transformers Grounding DINO (eval mode, no gradients)."""
    import torch

    limit = int(model.config.max_text_len)

    def forward(image, caption: str):
        inputs = processor(images=image, text=caption, return_tensors="pt").to(device)
        offsets = _kept_offsets(processor.tokenizer, caption, limit,
                                inputs["input_ids"][0].tolist())
        with torch.no_grad():
            out = model(**inputs)
        return out.logits[0], out.pred_boxes[0], offsets

    forward.max_text_len = limit
    return forward


def official_forward(model, transform: Optional[Callable] = None, device: str = "cpu") -> Forward:
    """The forward pass of the official repository's model. `transform` maps a PIL image to the
    normalized [3, H, W] tensor; default: the repository's own evaluation transform
    (``groundingdino.datasets.transforms``: RandomResize([800], max_size=1333), ToTensor,
    Normalize), which needs the package installed."""
    import torch

    if transform is None:
        import groundingdino.datasets.transforms as T  # the user's installation

        t = T.Compose([T.RandomResize([800], max_size=1333), T.ToTensor(),
                       T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
        transform = lambda img: t(img, None)[0]  # noqa: E731
    limit = int(getattr(model, "max_text_len", 256))

    def forward(image, caption: str):
        x = transform(image).to(device)
        with torch.no_grad():
            out = model(x[None], captions=[caption])
        return out["pred_logits"][0], out["pred_boxes"][0], _kept_offsets(model.tokenizer, caption,
                                                                          limit)

    forward.max_text_len = limit
    return forward


def export(forward: Forward, queries: Iterable[Query], out_dir: str, *,
           load_image: Optional[Callable] = None) -> str:
    """Runs `forward` once per caption of `queries` and writes the dumps and their manifest into
    `out_dir`; returns the manifest path (``--grounder npy-detector:PATH?preset=grounding-dino``).
    """
    load_image = load_image or image_loader()
    limit = getattr(forward, "max_text_len", None)
    with DumpWriter(out_dir) as w:
        for g in by_sentence(queries):
            cap = captions.grounding_dino(g.sentence, [q.span for q in g.queries])
            logits, boxes, offsets = forward(load_image(g), cap.text)
            w.write(g, cap, offsets, logits, boxes, token_limit=limit)
    return w.manifest_path
