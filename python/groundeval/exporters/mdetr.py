# SPDX-License-Identifier: Apache-2.0
"""MDETR → npy-detector dumps (replay with ``preset=mdetr``).

MDETR's torch hub models (``torch.hub.load("ashkamath/mdetr:main", "mdetr_efficientnetB5",
pretrained=True)``) are run as its Flickr evaluation runs them: the caption unchanged, encoded
once (``encode_and_save=True``) and decoded (``encode_and_save=False, memory_cache=...``),
giving ``pred_logits`` [1, 100, 256] (255 token slots + "no object") and ``pred_boxes``
[1, 100, 4] (cxcywh, normalized). Tokens past slot 254 cannot be scored (MDETR's positive map
has 255 token columns), so the dump keeps at most 255 tokens and records that limit.
"""
from __future__ import annotations

from typing import Callable, Iterable, Optional

from . import captions
from .dumps import DumpWriter
from .images import image_loader
from .queries import Query, by_sentence

TOKEN_SLOTS = 255  # MDETR: num_classes = 255 token columns, slot 255 is "no object"


def hub_forward(model, transform: Optional[Callable] = None, device: str = "cpu") -> Callable:
    """The two-stage forward pass of an MDETR hub model; `transform` maps a PIL image to the
    normalized tensor (default: MDETR's evaluation transform built with torchvision: shorter side
    800, longer side at most 1333, ImageNet normalization; torchvision rounds the resized size
    down where MDETR rounds, so the network input may differ by one pixel — boxes are
    normalized, so they do not move)."""
    import torch

    if transform is None:
        import torchvision.transforms as T

        transform = T.Compose([T.Resize(800, max_size=1333), T.ToTensor(),
                               T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    tokenizer = model.transformer.tokenizer

    def forward(image, caption: str):
        x = transform(image).unsqueeze(0).to(device)
        with torch.no_grad():
            memory = model(x, [caption], encode_and_save=True)
            out = model(x, [caption], encode_and_save=False, memory_cache=memory)
        enc = tokenizer(caption, return_offsets_mapping=True)
        return out["pred_logits"][0], out["pred_boxes"][0], list(enc["offset_mapping"])

    return forward


def export(forward: Callable, queries: Iterable[Query], out_dir: str, *,
           load_image: Optional[Callable] = None) -> str:
    """`forward(image, caption)` returns (pred_logits [Q, 256], pred_boxes [Q, 4], the RoBERTa
    tokenizer's offsets); writes one dump per caption and the manifest; returns its path
    (``--grounder npy-detector:PATH?preset=mdetr``)."""
    load_image = load_image or image_loader()
    with DumpWriter(out_dir) as w:
        for g in by_sentence(queries):
            cap = captions.identity(g.sentence, [q.span for q in g.queries], "mdetr")
            logits, boxes, offsets = forward(load_image(g), cap.text)
            w.write(g, cap, list(offsets)[:TOKEN_SLOTS], logits, boxes, token_limit=TOKEN_SLOTS)
    return w.manifest_path
