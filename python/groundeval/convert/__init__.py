# SPDX-License-Identifier: Apache-2.0
"""Converters of referring-expression data sets into MDETR's annotation format (the files
``groundeval --dataset mdetr:FILE.json`` reads): ``refer`` (the refer toolkit's
``refs(unc).p`` + ``instances.json``) and ``hf_parquet`` (the Hugging Face parquet copies such as
lmms-lab/RefCOCO); and converters of other harnesses' RefCOCO runs into groundeval predictions
that carry the raw answers, for rescoring with ``groundeval evaluate --family``:
``lmms_eval_log`` (lmms-eval ``--log_samples``) and ``vlmevalkit`` (VLMEvalKit result files).
Pure Python; pyarrow and Pillow only for the parquet route, openpyxl only for .xlsx.
``python -m groundeval.convert --help``.
"""
from .mdetr_format import ConvertError

__all__ = ["ConvertError"]
