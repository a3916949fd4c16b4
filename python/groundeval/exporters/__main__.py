# SPDX-License-Identifier: Apache-2.0
"""python -m groundeval.exporters MODEL --queries Q.jsonl --out OUT [...]

  grounding-dino-hf  a transformers Grounding DINO (hub id or local folder) -> dumps + manifest
  owlv2-hf           a transformers OWLv2 -> JSON Lines predictions
  glip-flickr        GLIP's flickr_post_process predictions (JSON list) -> JSON Lines predictions

Errors (a query file, image or model output that does not fit) exit with status 1 and a message
naming the item.
"""
from __future__ import annotations

import argparse
import sys

from .queries import ExportError, read_queries


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m groundeval.exporters", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=["grounding-dino-hf", "owlv2-hf", "glip-flickr"])
    ap.add_argument("--queries", required=True, help="output of `groundeval queries`")
    ap.add_argument("--out", required=True,
                    help="dump folder (grounding-dino-hf) or JSON Lines file (others)")
    ap.add_argument("--model-path", help="hub id or local folder (transformers models)")
    ap.add_argument("--predictions", help="glip-flickr: the JSON list GLIP's evaluation built")
    ap.add_argument("--images", help="image folder (<image id>.jpg) when the queries name none")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--mode", default="per_phrase", help="owlv2-hf: per_phrase or processor")
    ap.add_argument("--top-k", type=int, default=100, help="owlv2-hf per_phrase: boxes kept")
    a = ap.parse_args(argv)
    try:
        queries = read_queries(a.queries)
        from .images import image_loader

        load = image_loader(a.images)
        if a.model == "glip-flickr":
            from . import glip

            if not a.predictions:
                raise ExportError("glip-flickr needs --predictions")
            print(glip.from_flickr_predictions(a.predictions, queries, a.out))
            return 0
        if not a.model_path:
            raise ExportError(f"{a.model} needs --model-path")
        if a.model == "grounding-dino-hf":
            from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

            from . import grounding_dino

            model = AutoModelForZeroShotObjectDetection.from_pretrained(a.model_path)
            model = model.to(a.device).eval()
            processor = AutoProcessor.from_pretrained(a.model_path)
            fwd = grounding_dino.hf_forward(model, processor, a.device)
            print(grounding_dino.export(fwd, queries, a.out, load_image=load))
        else:
            from transformers import Owlv2ForObjectDetection, Owlv2Processor

            from . import owlv2

            model = Owlv2ForObjectDetection.from_pretrained(a.model_path).to(a.device).eval()
            processor = Owlv2Processor.from_pretrained(a.model_path)
            print(owlv2.export(model, processor, queries, a.out, load_image=load, mode=a.mode,
                               top_k=a.top_k, device=a.device))
        return 0
    except (ExportError, OSError) as e:
        print(f"groundeval exporters: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
