# SPDX-License-Identifier: Apache-2.0
"""python -m groundeval.convert refer|hf-parquet|lmms-eval|vlmevalkit ... --out FILE

  refer       --refs 'refs(unc).p' --instances instances.json --split val [--name refcoco]
              [--caption raw|sent]
  hf-parquet  PARQUET... [--name refcoco] [--images-out DIR]
  lmms-eval   SAMPLES.jsonl --dataset REFEXP.json [--skip-unmatched] [--box-tolerance T]
              [--metric-key NAME]
  vlmevalkit  RESULT.tsv|.xlsx|.json --dataset REFEXP.json [--split RefCOCO_val]
              [--skip-unmatched] [--box-tolerance T] [--expression-column C]
              [--expression-regex RX]

refer / hf-parquet write MDETR's refexp JSON for `groundeval ... --dataset mdetr:FILE.json`.
lmms-eval / vlmevalkit write groundeval predictions JSON Lines from another harness's RefCOCO
run (lmms-eval --log_samples of refcoco*_bbox_rec_*; VLMEvalKit's RefCOCO result or _detail
file), matched to the entries of REFEXP.json (an MDETR refexp file of the same split), with the
model's raw answers in raw_text and the harness's own reading, when the file has it, as boxes:
`groundeval evaluate --dataset mdetr:REFEXP.json --predictions OUT --family F` rescores them.
Errors exit 1 naming the file and item.
"""
from __future__ import annotations

import argparse
import sys

from .mdetr_format import ConvertError


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m groundeval.convert", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="kind", required=True)
    r = sub.add_parser("refer")
    r.add_argument("--refs", required=True)
    r.add_argument("--instances", required=True)
    r.add_argument("--split", required=True, help="val, testA, testB, test, train ...")
    r.add_argument("--caption", default="raw", choices=["raw", "sent"])
    h = sub.add_parser("hf-parquet")
    h.add_argument("parquet", nargs="+")
    h.add_argument("--images-out")
    for p in (r, h):
        p.add_argument("--out", required=True)
        p.add_argument("--name", default="refcoco", help="dataset_name written in each entry")
    lm = sub.add_parser("lmms-eval")
    lm.add_argument("samples", help="the --log_samples file (<date>_samples_<task>.jsonl)")
    lm.add_argument("--metric-key", help="the sample member holding the bbox_rec dict "
                    "(default: the first member with 'pred' and 'bbox')")
    vk = sub.add_parser("vlmevalkit")
    vk.add_argument("result", help="<model>_RefCOCO.tsv|.xlsx|.json or its _detail file")
    vk.add_argument("--split", help="keep only the rows of this split (e.g. RefCOCO_val; "
                    "column 'split', else derived from 'category')")
    vk.add_argument("--expression-column", help="column holding the plain expression "
                    "(default: taken from 'question' with --expression-regex)")
    vk.add_argument("--expression-regex", default=r"<ref>(.*?)</ref>",
                    help="group 1 is the expression in 'question' (default %(default)s)")
    for p in (lm, vk):
        p.add_argument("--dataset", required=True,
                       help="MDETR refexp JSON of the same split (what evaluate --dataset reads)")
        p.add_argument("--out", required=True, help="groundeval predictions JSON Lines")
        p.add_argument("--skip-unmatched", action="store_true",
                       help="skip rows no data set entry matches instead of failing")
        p.add_argument("--box-tolerance", type=float, default=1e-5,
                       help="largest difference of a normalized ground-truth coordinate "
                       "(default %(default)g)")
    a = ap.parse_args(argv)
    try:
        if a.kind in ("lmms-eval", "vlmevalkit"):
            if a.kind == "lmms-eval":
                from . import lmms_eval_log

                summary = lmms_eval_log.convert(a.samples, a.dataset, a.out,
                                                skip_unmatched=a.skip_unmatched,
                                                tolerance=a.box_tolerance,
                                                metric_key=a.metric_key)
            else:
                from . import vlmevalkit

                summary = vlmevalkit.convert(a.result, a.dataset, a.out, split=a.split,
                                             skip_unmatched=a.skip_unmatched,
                                             tolerance=a.box_tolerance,
                                             expression_column=a.expression_column,
                                             expression_regex=a.expression_regex)
            print(f"{a.out}: {summary.line()}")
            return 0
        if a.kind == "refer":
            from . import refer

            out = refer.convert(a.refs, a.instances, a.split, a.out, dataset_name=a.name,
                                caption=a.caption)
        else:
            from . import hf_parquet

            out = hf_parquet.convert(a.parquet, a.out, dataset_name=a.name,
                                     images_out=a.images_out)
        print(out)
        return 0
    except (ConvertError, OSError) as e:
        print(f"groundeval convert: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
