#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks bench/gpu/compare_torchvision.py's Grounding DINO post-processing reference and its
comparison (gdino_reference, gdino_check) on the CPU against groundeval's CPU pipeline
(grounding_dino_postprocess, through gdino_cpu_driver), so that the GPU run compares against a
reference known to agree with the C++ code. Needs torch (and numpy); without them it exits 77,
which ctest reports as skipped (configure with -DPython3_EXECUTABLE=<a python with torch>).

1. On random inputs with planted exact ties (gdino_inputs), the CPU pipeline's per-phrase lists
   must pass gdino_check: the same 300 pairs as PostProcessCocoGrounding in torch (stable sort,
   ties by q * P + p) up to near-ties, scores within rel 1e-5, boxes within 1e-4.
2. Every check must be able to fail: mutated lists (two ranks swapped, a box moved by 0.1 %, a
   score by 1e-4, a count, the planted tie reversed) must be rejected.
3. The plumbing of the GPU section (gdino_section: buffers, the ctypes argument tuple, the check)
   on CPU tensors, with a fake C ABI that reads each argument at its position in kernels/capi.cpp's
   ge_postprocess and answers with the CPU pipeline.

usage: check_gdino_torch_reference.py GDINO_CPU_DRIVER WORKDIR
"""
import ctypes
import os
import subprocess
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"SKIP: {e.name} is not installed for {sys.executable}; this check needs torch and numpy")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "gpu"))
import compare_torchvision as ct  # noqa: E402


def cpu_pipeline(driver, work, x):
    b, q, t = x["logits"].shape
    p, k = x["pos"].shape[0], ct.GDINO_SELECT
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "dims.txt"), "w") as f:
        f.write(f"{b} {q} {t} {p} {k}\n")
    x["logits"].numpy().astype(np.float32).tofile(os.path.join(work, "logits.f32"))
    x["boxes"].numpy().astype(np.float32).tofile(os.path.join(work, "boxes.f32"))
    x["pos"].numpy().astype(np.uint8).tofile(os.path.join(work, "mask.u8"))
    x["sizes"].numpy().astype(np.int32).tofile(os.path.join(work, "sizes.i32"))
    subprocess.run([driver, work], check=True)
    rd = lambda name, dt, shape: torch.from_numpy(np.fromfile(os.path.join(work, name), dt).astype(
        np.int32 if dt == np.uint32 else dt).reshape(shape))
    return {"queries": rd("cpu_queries.i32", np.int32, (b, p, k)),
            "scores": rd("cpu_scores.f32", np.float32, (b, p, k)),
            "boxes": rd("cpu_boxes.f32", np.float32, (b, p, k, 4)), "counts": rd("cpu_counts.u32", np.uint32, (b, p))}


class FakeCapi:
    """ge_postprocess as declared in kernels/capi.cpp, on host pointers, answered by the driver."""

    def __init__(self, driver, work):
        self.driver, self.work, self.calls = driver, work, 0

    def ge_postprocess_workspace_bytes(self, b, q, t, p, gemm):
        return 4 * b * q * p + (4 * b * q * t if gemm else 0) + 4 * b * p

    def ge_postprocess(self, logits, boxes, b, q, t, p, spans, weights, counts, per_image, scales, activation,
                       aggregation, map_eps, threshold, top_k, pair_top_k, cxcywh, tf32, out_q, out_s, out_b,
                       out_c, flags, workspace, workspace_bytes, cublas, stream):
        self.calls += 1
        arr = lambda ptr, n, ctype: np.ctypeslib.as_array((ctype * n).from_address(ptr)).copy()
        expect = (activation, aggregation, per_image, cxcywh, tf32, counts, threshold, top_k, pair_top_k)
        if expect != (1, 1, 0, 1, 0, None, float("-inf"), ct.GDINO_SELECT, ct.GDINO_SELECT) or \
                abs(map_eps - 1e-6) > 1e-12 or (spans is None) == (weights is None) or \
                workspace_bytes != self.ge_postprocess_workspace_bytes(b, q, t, p, weights is not None):
            print(f"FAIL: unexpected ge_postprocess arguments {expect} {map_eps} {spans} {weights} {workspace_bytes}")
            return 1
        mask = np.zeros((p, t), np.uint8)
        if spans is not None:
            for i, (s0, s1) in enumerate(arr(spans, 2 * p, ctypes.c_uint32).reshape(p, 2)):
                mask[i, s0:s1] = 1
        else:  # the normalized map: 1 / (n + 1e-6) in float32 on each phrase's tokens
            w = arr(weights, p * t, ctypes.c_float).reshape(p, t)
            mask[w > 0] = 1
            n = mask.sum(1).astype(np.int64)
            if not np.array_equal(w[w > 0], np.repeat(np.float32(1) / (n.astype(np.float32) + np.float32(1e-6)), n)):
                print("FAIL: the GEMM weights are not Grounding DINO's normalized map")
                return 1
        x = {"logits": torch.from_numpy(arr(logits, b * q * t, ctypes.c_float).reshape(b, q, t)),
             "boxes": torch.from_numpy(arr(boxes, b * q * 4, ctypes.c_float).reshape(b, q, 4)),
             "pos": torch.from_numpy(mask), "sizes": torch.from_numpy(arr(scales, 2 * b, ctypes.c_float).reshape(b, 2))}
        res = cpu_pipeline(self.driver, self.work, x)
        for key, ptr in (("queries", out_q), ("scores", out_s), ("boxes", out_b), ("counts", out_c)):
            data = res[key].contiguous().numpy().tobytes()
            ctypes.memmove(ptr, data, len(data))
        ctypes.memset(flags, 0, 4 * b)
        return 0


def mutate(ours, name):
    m = {key: v.clone() for key, v in ours.items()}
    if name == "swap":  # ranks 0 and 1 of the longest list of image 0 (distinct scores)
        p = int(m["counts"][0].argmax())
        m["queries"][0, p, torch.tensor([0, 1])] = m["queries"][0, p, torch.tensor([1, 0])]
    elif name == "box":
        m["boxes"][0, 0, 0, 2] *= 1.001
    elif name == "score":
        m["scores"][0, 0, 0] *= 1.0001
    elif name == "count":
        m["counts"][0, 0] -= 1
    elif name == "tie":  # queries 0 and 1 tie exactly in phrase 1: put 1 first
        lst, bx = m["queries"][0, 1], m["boxes"][0, 1]
        i = torch.stack([(lst == 0).nonzero()[0, 0], (lst == 1).nonzero()[0, 0]])
        lst[i] = lst[i.flip(0)]
        bx[i] = bx[i.flip(0)].clone()
    return m


def main():
    driver, work = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    failures = 0
    for b, q, t, p, seed in [(32, 900, 256, 16, 7), (4, 900, 256, 40, 1), (3, 50, 256, 5, 2)]:
        x = ct.gdino_inputs(b, q, t, p, seed=seed)
        ours = cpu_pipeline(driver, os.path.join(work, f"case{seed}"), x)
        ok, info = ct.gdino_check(x, ours)
        print(f"B{b} Q{q} T{t} P{p}: {'ok' if ok else 'FAIL:'} {info}")
        failures += not ok
        for name in ("swap", "box", "score", "count", "tie"):
            bad, _ = ct.gdino_check(x, mutate(ours, name))
            if bad:
                print(f"FAIL: B{b} Q{q} P{p}: the '{name}' mutation passed the check")
                failures += 1
    fake = FakeCapi(driver, os.path.join(work, "fake"))
    ct.timed = lambda fn, reps, inner: (fn(), 1.0)[1]  # no CUDA events on the CPU
    for r in ct.gdino_section(fake, 1, 1, b=4, device="cpu"):
        print(f"gdino_section, {r['op']}: {'ok' if r['ok'] else 'FAIL:'} {r['check']}")
        failures += not r["ok"]
    if fake.calls != 6:  # per form: checked call, timed call, call after the timing
        print(f"FAIL: gdino_section called ge_postprocess {fake.calls} times, expected 6")
        failures += 1
    print("all checks passed" if failures == 0 else f"FAIL: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
