# SPDX-License-Identifier: Apache-2.0
"""python -m groundeval.convert refer|hf-parquet ... --out FILE.json

  refer       --refs 'refs(unc).p' --instances instances.json --split val [--name refcoco]
              [--caption raw|sent]
  hf-parquet  PARQUET... [--name refcoco] [--images-out DIR]

Writes MDETR's refexp JSON for `groundeval ... --dataset mdetr:FILE.json`. Errors exit 1 naming
the file and item.
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
    a = ap.parse_args(argv)
    try:
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
