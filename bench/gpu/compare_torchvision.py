#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Side-by-side timing of groundeval's CUDA kernels and torchvision on the same GPU, the same
tensors and the same stream, in one process (bench/gpu/run.sh calls it on the GPU machine).

groundeval is loaded through its C ABI shim (libgroundeval_cuda_capi.so) with ctypes; device
pointers come from torch tensors and the stream is torch's current stream. Every comparison first
checks correctness (IoU within 1e-6 of torchvision, identical NMS keep sets), then times both
with CUDA events (median of repeated batches). Writes compare.json and prints a Markdown table.

Grounding DINO post-processing (issue 7: B=32, Q=900, T=256, P=16, <= 100 us) has no torchvision
counterpart: the reference is PostProcessCocoGrounding (GroundingDINO demo/test_ap_on_coco.py) in
plain torch (gdino_reference, device-agnostic): sigmoid, probabilities @ the row-normalized positive
map (1 / (n + 1e-6)), top 300 (query, phrase) pairs over the flattened [Q * P] scores, cxcywh ->
xyxy, gather, times (W, H, W, H). groundeval runs the same preset (ge_postprocess: sigmoid,
normalized sum, pair_top_k = top_k = 300, per-phrase lists [B, P, 300]) in its span form and its
cuBLAS FP32 GEMM form. Checked before timing: the 300 pairs in groundeval's global order (score
descending, ties by q * P + p ascending) against a stable descending sort of the reference scores
(the same tie rule; torch.topk's tie order is unspecified): identical, except swaps of near-ties
whose reference scores agree within the score tolerance (rel 1e-5 + abs 1e-7; the activations can
differ by an ulp or two, the GEMM sums in its own order); exact ties (a repeated phrase span and a
repeated query row are planted) in flat-index order; scores within that tolerance; boxes within
1e-4 relative. The timed torch side is the faithful one (torch.topk).

Exit status 1 when any check fails (every section's timings are still printed).

usage: compare_torchvision.py --lib build-gpu/lib/libgroundeval_cuda_capi.so --out DIR [--quick]
"""
import argparse
import ctypes
import json
import statistics
import sys
import time

import torch

c_void_p, c_size_t, c_int, c_float = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_float


def load(path):
    lib = ctypes.CDLL(path)
    lib.ge_pairwise_iou.argtypes = [c_void_p, c_size_t, c_void_p, c_size_t, c_void_p, c_int, c_void_p]
    lib.ge_max_iou_per_row.argtypes = [c_void_p, c_size_t, c_void_p, c_size_t, c_void_p, c_void_p, c_void_p]
    lib.ge_nms_workspace_bytes.argtypes = [c_size_t]
    lib.ge_nms_workspace_bytes.restype = c_size_t
    lib.ge_segmented_nms_workspace_bytes.argtypes = [c_void_p, c_size_t]
    lib.ge_segmented_nms_workspace_bytes.restype = c_size_t
    lib.ge_nms.argtypes = [c_void_p, c_void_p, c_size_t, c_float, c_void_p, c_size_t, c_void_p, c_void_p, c_void_p]
    lib.ge_segmented_nms.argtypes = [c_void_p, c_void_p, c_void_p, c_size_t, c_size_t, c_float, c_void_p,
                                     c_size_t, c_void_p, c_void_p, c_void_p]
    if hasattr(lib, "ge_postprocess"):
        lib.ge_postprocess_workspace_bytes.argtypes = [c_size_t, c_size_t, c_size_t, c_size_t, c_int]
        lib.ge_postprocess_workspace_bytes.restype = c_size_t
        lib.ge_postprocess.argtypes = ([c_void_p, c_void_p, c_size_t, c_size_t, c_size_t, c_size_t, c_void_p, c_void_p,
                                        c_void_p, c_int, c_void_p, c_int, c_int, c_float, c_float, c_size_t, c_size_t,
                                        c_int, c_int] + [c_void_p] * 6 + [c_size_t, c_void_p, c_void_p])
    return lib


def stream():
    return c_void_p(torch.cuda.current_stream().cuda_stream)


def check(rc, what):
    if rc != 0:
        raise RuntimeError(f"groundeval {what} failed with cudaError {rc}")


def timed(fn, reps, inner):
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(inner):
            fn()
        e.record()
        e.synchronize()
        out.append(s.elapsed_time(e) / inner * 1e3)  # microseconds
    return statistics.median(out)


def peak_mem(fn):
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def boxes(n, gen):
    xy = torch.rand(n, 2, generator=gen, device="cuda") * torch.tensor([1000.0, 800.0], device="cuda")
    wh = torch.rand(n, 2, generator=gen, device="cuda") * 200 + 1
    return torch.cat([xy, xy + wh], 1).contiguous()


# ---- Grounding DINO post-processing (torch only, any device) -----------------------------------
GDINO_SELECT = 300  # PostProcessCocoGrounding's num_select = groundeval's pair_top_k = top_k
GDINO_EPS = 1e-6  # create_positive_map_from_span: map / (map.sum(-1) + 1e-6)
SCORE_RTOL, SCORE_ATOL = 1e-5, 1e-7  # FP32: an ulp or two of sigmoid, GEMM sum order / FMA
BOX_RTOL = 1e-4


def gdino_inputs(b, q, t, p, seed=0, device="cpu"):
    """Random Grounding DINO outputs and a caption-like positive map, generated on the CPU (the
    same values on every device): logits [B, Q, T] ~ N(-3, 2.5), pred boxes cxcywh normalized
    [B, Q, 4], phrases of 1-4 contiguous tokens after [CLS], one separator token apart ("cat .
    dog ."; 1-2 tokens when 4 would not fit, as for P = 80), image sizes (W, H). Exact ties are planted: the last phrase repeats phrase 1's span,
    and queries 0 and 1 of every image have the same logits (high on that span; their boxes
    differ), so four pairs per image tie exactly near the top."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, q, t, generator=g) * 2.5 - 3.0
    boxes = torch.cat([torch.rand(b, q, 2, generator=g) * 0.8 + 0.1, torch.rand(b, q, 2, generator=g) * 0.48 + 0.02], 2)
    spans, at = [], 1
    max_len = max(1, min(4, (t - 1) // p - 1))  # 1-4 tokens, shorter when P phrases would not fit (P = 80: 1-2)
    for n in torch.randint(1, max_len + 1, (p,), generator=g).tolist():
        spans.append((at, at + n))
        at += n + 1
    if at > t or p < 3 or q < 2:
        raise ValueError("gdino_inputs: needs P >= 3, Q >= 2 and room for the phrases in T")
    spans[-1] = spans[1]
    lo, hi = spans[1]
    logits[:, 1] = logits[:, 0]
    logits[:, 0:2, lo:hi] = 6.0
    pos = torch.zeros(p, t)
    for i, (s0, s1) in enumerate(spans):
        pos[i, s0:s1] = 1.0
    sizes = torch.stack([torch.randint(320, 1334, (b,), generator=g), torch.randint(240, 1334, (b,), generator=g)], 1)
    tied = [qq * p + pp for qq in (0, 1) for pp in (1, p - 1)]  # flat indices q * P + p, in tie order
    return {"logits": logits.to(device), "boxes": boxes.to(device), "pos": pos.to(device),
            "spans": torch.tensor(spans, dtype=torch.int32, device=device),
            "sizes": sizes.float().to(device), "tied": tied}


def gdino_normalized_map(pos):
    """Grounding DINO's positive map: each 0/1 row divided by (its token count + 1e-6)."""
    return pos / (pos.sum(-1)[:, None] + GDINO_EPS)


def gdino_reference(logits, boxes, pos_norm, sizes_wh, num_select=GDINO_SELECT, stable=True):
    """PostProcessCocoGrounding.forward in plain torch on any device: sigmoid, @ the normalized map,
    top num_select of the flattened [Q * P] scores, query = index // P, phrase = index % P,
    cxcywh -> xyxy of all boxes, gather, times (W, H, W, H). stable=True ranks with a stable
    descending sort (ties by q * P + p ascending: groundeval's documented rule); stable=False with
    torch.topk as the original (tie order unspecified). Returns scores, queries, phrases [B, k],
    boxes [B, k, 4] and the phrase scores [B, Q, P]."""
    prob = logits.sigmoid() @ pos_norm.T
    flat = prob.view(logits.shape[0], -1)
    num_select = min(num_select, flat.shape[1])  # (the original's topk raises when Q * P < 300)
    if stable:
        vals, idx = torch.sort(flat, dim=1, descending=True, stable=True)
        vals, idx = vals[:, :num_select], idx[:, :num_select]
    else:
        vals, idx = torch.topk(flat, num_select, dim=1)
    qi, pi = idx // prob.shape[2], idx % prob.shape[2]
    cx, cy, w, h = boxes.unbind(-1)
    xyxy = torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], -1)
    sel = torch.gather(xyxy, 1, qi.unsqueeze(-1).repeat(1, 1, 4))
    img_w, img_h = sizes_wh.unbind(1)
    scale = torch.stack([img_w, img_h, img_w, img_h], dim=1)
    return vals, qi, pi, sel * scale[:, None, :], prob


def gdino_check(x, ours, num_select=GDINO_SELECT):
    """Checks groundeval's per-phrase lists (ours: queries int32 / scores / boxes [B, P, k, 4],
    counts [B, P], on any device) against gdino_reference on the inputs x. Returns (ok, info)."""
    ref_s, ref_q, ref_p, _, prob = gdino_reference(x["logits"], x["boxes"], gdino_normalized_map(x["pos"]), x["sizes"],
                                                   num_select)
    ref_s, prob = ref_s.cpu(), prob.cpu()
    nq, npz = prob.shape[1], prob.shape[2]
    ref_f = (ref_q * npz + ref_p).cpu()
    oq, osc, ob, oc = (ours[k].cpu() for k in ("queries", "scores", "boxes", "counts"))
    nb, _, k = oq.shape
    oq, oc = oq.long(), oc.long()
    info, ok = {}, True
    valid = torch.arange(k)[None, None, :] < oc[:, :, None]
    info["counts_ok"] = bool((oc.sum(1) == min(num_select, nq * npz)).all() and (oc <= k).all()
                             and ((oq >= 0) & (oq < nq) | ~valid).all())
    info["padding_ok"] = bool(((oq == -1) | valid).all() and ((osc == 0) | valid).all())
    # each list: score descending, ties by query ascending
    nxt = valid[:, :, 1:]
    s0, s1, q0, q1 = osc[:, :, :-1], osc[:, :, 1:], oq[:, :, :-1], oq[:, :, 1:]
    info["list_order_ok"] = bool(((s0 > s1) | ((s0 == s1) & (q0 < q1)) | ~nxt).all())
    ok = info["counts_ok"] and info["padding_ok"] and info["list_order_ok"]
    if not info["counts_ok"]:
        return False, info
    # groundeval's global order: score descending, ties by flat index q * P + p ascending
    flat = torch.where(valid, oq * npz + torch.arange(npz)[None, :, None], nq * npz).view(nb, -1)
    sc = torch.where(valid, osc, float("-inf")).view(nb, -1)
    o1 = torch.argsort(flat, dim=1, stable=True)
    o2 = torch.argsort(sc.gather(1, o1), dim=1, descending=True, stable=True)
    order = o1.gather(1, o2)[:, :min(num_select, nq * npz)]
    our_f, our_s = flat.gather(1, order), sc.gather(1, order)
    our_b = ob.view(nb, -1, 4).gather(1, order.unsqueeze(-1).expand(-1, -1, 4))
    r_flat = prob.view(nb, -1)
    r_at_ours = r_flat.gather(1, our_f)
    tol = lambda v: SCORE_ATOL + SCORE_RTOL * v.abs()
    info["max_score_rel_diff"] = float(((our_s - r_at_ours).abs() / r_at_ours.abs().clamp_min(1e-30)).max())
    scores_ok = bool(((our_s - r_at_ours).abs() <= tol(r_at_ours)).all())
    # rank by rank: a different pair only where the reference scores are a near-tie
    mism = our_f != ref_f
    info["near_tie_swaps"] = int(mism.sum())
    ranks_ok = bool(((r_at_ours - ref_s).abs() <= tol(ref_s)).all())
    # exact ties in both score sets must be in flat-index order (both sides sort by it)
    viol = 0
    for b, i in mism.nonzero().tolist():
        a, c = int(ref_f[b, i]), int(our_f[b, i])
        hit = (our_f[b] == a).nonzero()
        if r_flat[b, a] == r_flat[b, c] and hit.numel() and our_s[b, hit[0, 0]] == our_s[b, i]:
            viol += 1
    for b in range(nb):  # the planted ties: present, equal scores, in flat order
        pos = [(our_f[b] == f).nonzero() for f in x["tied"]]
        if any(t.numel() == 0 for t in pos):
            viol += 1
            continue
        r = [int(t[0, 0]) for t in pos]
        if r != sorted(r) or len({float(our_s[b, j]) for j in r}) != 1:
            viol += 1
    info["tie_rule_violations"] = viol
    # boxes: the reference decode + scale of the query each entry names
    cx, cy, w, h = x["boxes"].cpu().unbind(-1)
    xyxy = torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], -1)
    sz = x["sizes"].cpu()
    ref_all = xyxy * torch.stack([sz[:, 0], sz[:, 1], sz[:, 0], sz[:, 1]], 1)[:, None, :]
    ref_b = ref_all.gather(1, (our_f // npz).unsqueeze(-1).expand(-1, -1, 4))
    rel = (our_b - ref_b).abs() / ref_b.abs().clamp_min(1.0)
    info["max_box_rel_diff"] = float(rel.max())
    boxes_ok = info["max_box_rel_diff"] <= BOX_RTOL
    info.update(scores_ok=scores_ok, ranks_ok=ranks_ok, boxes_ok=boxes_ok)
    ok = ok and scores_ok and ranks_ok and boxes_ok and viol == 0
    return ok, info


def gdino_section(lib, reps, inner, b=32, q=900, t=256, p=16, device="cuda", rows=None):
    """Rows for the Grounding DINO comparison: groundeval's span form and cuBLAS FP32 GEMM form
    against gdino_reference (device="cpu" only for a mocked `lib` and `timed`, to test the plumbing).
    Appended to `rows` one by one (so a later error keeps the finished ones) and returned."""
    x = gdino_inputs(b, q, t, p, seed=7, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    pos_norm = gdino_normalized_map(x["pos"])
    k = GDINO_SELECT
    oq = torch.empty(b, p, k, dtype=torch.int32, device=device)
    osc = torch.empty(b, p, k, dtype=torch.float32, device=device)
    ob = torch.empty(b, p, k, 4, dtype=torch.float32, device=device)
    oc = torch.empty(b, p, dtype=torch.int32, device=device)  # uint32 in the ABI; small values
    of = torch.empty(b, dtype=torch.int32, device=device)
    ref = lambda: gdino_reference(x["logits"], x["boxes"], pos_norm, x["sizes"], k, stable=False)
    vt = ref()[0]
    vs = gdino_reference(x["logits"], x["boxes"], pos_norm, x["sizes"], k, stable=True)[0]
    topk_same = torch.equal(vt, vs)  # topk and the stable sort pick the same scores
    # µs-scale calls: more launches per timed batch, so the first launch's host latency is amortized
    inner = max(inner, 20)
    t_ref = timed(ref, reps, inner)
    rows = [] if rows is None else rows
    for form in ("span", "gemm"):
        gemm = form == "gemm"
        ws = torch.empty(lib.ge_postprocess_workspace_bytes(b, q, t, p, int(gemm)), dtype=torch.uint8, device=device)
        handle = c_void_p(torch.cuda.current_blas_handle()) if gemm and device == "cuda" else None
        # the arguments once (fixed pointers), so that a timed call costs one ctypes call
        args = (x["logits"].data_ptr(), x["boxes"].data_ptr(), b, q, t, p,
                None if gemm else x["spans"].data_ptr(), pos_norm.data_ptr() if gemm else None, None, 0,
                x["sizes"].data_ptr(), 1, 1, GDINO_EPS, float("-inf"), k, k, 1, 0,
                oq.data_ptr(), osc.data_ptr(), ob.data_ptr(), oc.data_ptr(), of.data_ptr(),
                ws.data_ptr(), ws.numel(), handle, stream() if device == "cuda" else None)
        # (sigmoid = 1, normalized sum = 1, map_eps, no threshold, top_k = pair_top_k = 300, cxcywh, no TF32)
        check(lib.ge_postprocess(*args), "postprocess")
        sync()
        ok, info = gdino_check(x, {"queries": oq, "scores": osc, "boxes": ob, "counts": oc})
        flags = int(of.abs().max().item())
        ok = ok and flags == 0 and topk_same
        t_ge = timed(lambda: lib.ge_postprocess(*args), reps, inner)
        check(lib.ge_postprocess(*args), "postprocess")  # still succeeding after the timing
        rows.append({"op": f"Grounding DINO post-processing ({'cuBLAS FP32' if gemm else 'span'} form)",
                     "size": f"B{b} Q{q} T{t} P{p} k{k}", "torchvision_us": t_ref, "groundeval_us": t_ge,
                     "ok": ok, "flags": flags, "topk_equals_stable_sort": topk_same, "workspace_bytes": ws.numel(),
                     "target_us": 100.0, **info,
                     "check": (f"top-{k} same, {info['near_tie_swaps']} near-tie swaps, max rel diff score "
                               f"{info['max_score_rel_diff']:.1e} box {info['max_box_rel_diff']:.1e}"
                               if ok else f"**FAILED** {info}, flags {flags}, topk==sort {topk_same}")})
    return rows


def main():
    import torchvision  # here, so that the Grounding DINO functions above need torch only

    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    lib = load(args.lib)
    if not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 1
    gen = torch.Generator(device="cuda").manual_seed(0)
    reps, inner = (5, 3) if args.quick else (15, 5)
    results = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__,
               "torchvision": torchvision.__version__, "date": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": []}
    rows = results["rows"]

    # device-to-device copy bandwidth (bytes read + written), the ceiling for materialized IoU
    src = torch.empty(1 << 28, dtype=torch.float32, device="cuda").fill_(1.0)
    dst = torch.empty_like(src)
    t = timed(lambda: dst.copy_(src), reps, inner)
    copy_bw = 2 * src.numel() * 4 / (t * 1e-6)
    results["d2d_copy_bytes_per_s"] = copy_bw
    del src, dst
    # write-only bandwidth (zero_ of 1 GiB): the ceiling of a materialized f32 IoU matrix
    buf = torch.empty(1 << 28, dtype=torch.float32, device="cuda")
    write_bw = buf.numel() * 4 / (timed(lambda: buf.zero_(), reps, inner) * 1e-6)
    results["write_bytes_per_s"] = write_bw
    del buf
    goals = results["goals"] = []

    def goal(name, measured, target, higher_is_better=True, unit="x"):
        met = measured >= target if higher_is_better else measured <= target
        goals.append({"goal": name, "measured": measured, "target": target, "unit": unit,
                      "higher_is_better": higher_is_better, "met": bool(met)})

    for n in ([1000, 10000, 16384] if args.quick else [1000, 5000, 10000, 16384]):
        a, b = boxes(n, gen), boxes(n, gen)
        out = torch.empty(n, n, dtype=torch.float32, device="cuda")
        ref = torchvision.ops.box_iou(a, b)
        check(lib.ge_pairwise_iou(a.data_ptr(), n, b.data_ptr(), n, out.data_ptr(), 0, stream()), "pairwise_iou")
        torch.cuda.synchronize()
        err = (out - ref).abs().max().item()
        t_tv = timed(lambda: torchvision.ops.box_iou(a, b), reps, inner)
        t_ge = timed(lambda: lib.ge_pairwise_iou(a.data_ptr(), n, b.data_ptr(), n, out.data_ptr(), 0, stream()), reps, inner)
        rows.append({"op": "pairwise IoU", "size": f"{n}x{n}", "torchvision_us": t_tv, "groundeval_us": t_ge,
                     "max_abs_diff": err, "groundeval_write_fraction_of_copy_bw": (n * n * 4 / (t_ge * 1e-6)) / copy_bw,
                     "torchvision_peak_bytes": peak_mem(lambda: torchvision.ops.box_iou(a, b)),
                     "groundeval_peak_bytes": n * n * 4})
        if n == 16384:
            goal("pairwise IoU f32 16384²: bytes stored / write bandwidth", n * n * 4 / (t_ge * 1e-6) / write_bw, 0.85)
            for kind, name, size in ((1, "f16", 2), (3, "u8", 1)):
                o = torch.empty(n * n * size, dtype=torch.uint8, device="cuda")
                check(lib.ge_pairwise_iou(a.data_ptr(), n, b.data_ptr(), n, o.data_ptr(), kind, stream()), "pairwise_iou")
                if kind == 1:  # f16 output: the f32 result rounded to nearest
                    err = (o.view(torch.float16).view(n, n).float() - ref.half().float()).abs().max().item()
                else:  # u8: round(iou * 255), to nearest even
                    err = (o.view(n, n).float() - torch.round(ref * 255)).abs().max().item()
                t_k = timed(lambda: lib.ge_pairwise_iou(a.data_ptr(), n, b.data_ptr(), n, o.data_ptr(), kind, stream()),
                            reps, inner)
                rows.append({"op": f"pairwise IoU {name}", "size": f"{n}x{n}", "torchvision_us": t_tv, "groundeval_us": t_k,
                             "max_abs_diff": err, "note": "torchvision column: its f32 box_iou; diff against the f32 result converted"})
                goal(f"pairwise IoU {name} 16384²: pair rate / the f32 pair rate", t_ge / t_k, 1.6)
                del o
        del out, ref

        mx = torch.empty(n, dtype=torch.float32, device="cuda")
        arg = torch.empty(n, dtype=torch.int64, device="cuda")
        check(lib.ge_max_iou_per_row(a.data_ptr(), n, b.data_ptr(), n, mx.data_ptr(), arg.data_ptr(), stream()), "max_iou_per_row")
        rv, ri = torchvision.ops.box_iou(a, b).max(dim=1)
        torch.cuda.synchronize()
        t_tv = timed(lambda: torchvision.ops.box_iou(a, b).max(dim=1), reps, inner)
        t_ge = timed(lambda: lib.ge_max_iou_per_row(a.data_ptr(), n, b.data_ptr(), n, mx.data_ptr(), arg.data_ptr(), stream()), reps, inner)
        rows.append({"op": "max IoU + argmax per row", "size": f"{n}x{n}", "torchvision_us": t_tv, "groundeval_us": t_ge,
                     "max_abs_diff": (mx - rv).abs().max().item(),
                     "argmax_mismatches_where_values_differ_from_ties": int(((arg != ri) & (mx != rv)).sum().item()),
                     "torchvision_peak_bytes": peak_mem(lambda: torchvision.ops.box_iou(a, b).max(dim=1)),
                     "groundeval_peak_bytes": n * 12})

    # the fused max for issue 19's shapes; the argmax must be the smallest index of the max
    for (n, m, target) in ((4096, 16384, 10.0), (100, 100000, 3.0), (1, 1000000, 3.0), (16, 1000000, 3.0)):
        a, b = boxes(n, gen), boxes(m, gen)
        mx = torch.empty(n, dtype=torch.float32, device="cuda")
        arg = torch.empty(n, dtype=torch.int64, device="cuda")
        ge = lambda: lib.ge_max_iou_per_row(a.data_ptr(), n, b.data_ptr(), m, mx.data_ptr(), arg.data_ptr(), stream())
        check(ge(), "max_iou_per_row")
        full = torchvision.ops.box_iou(a, b)
        rv = full.max(dim=1).values
        first = (full == rv[:, None]).int().argmax(dim=1)  # smallest index reaching the max
        torch.cuda.synchronize()
        diff, wrong_arg = (mx - rv).abs().max().item(), int((arg != first).sum().item())
        del full
        t_tv = timed(lambda: torchvision.ops.box_iou(a, b).max(dim=1), reps, inner)
        t_ge = timed(ge, reps, inner)
        rows.append({"op": "max IoU + argmax per row", "size": f"{n}x{m}", "torchvision_us": t_tv, "groundeval_us": t_ge,
                     "max_abs_diff": diff, "argmax_not_smallest_index": wrong_arg,
                     "ok": diff == 0.0 and wrong_arg == 0})
        goal(f"max IoU + argmax {n} x {m}: speed-up over torchvision", t_tv / t_ge, target)

    def clustered(n):
        """n // 20 + 1 objects, each with ~20 jittered proposals (torchvision's NMS benchmark style)."""
        centers = boxes(n // 20 + 1, gen)
        centers[:, 2:] += 20  # at least 21 wide: the jitter never inverts a box
        idx = torch.randint(0, centers.shape[0], (n,), generator=gen, device="cuda")
        jit = (torch.rand(n, 4, generator=gen, device="cuda") - 0.5) * 8
        return (centers[idx] + jit).contiguous()

    def nms_row(op, bx):
        """One NMS row: keep lists compared with torchvision's, then both timed."""
        n = bx.shape[0]
        sc = torch.randperm(n, generator=gen, device="cuda").float() / n + 1e-3  # distinct scores: no ties
        ws = torch.empty(lib.ge_nms_workspace_bytes(n), dtype=torch.uint8, device="cuda")
        keep = torch.empty(n, dtype=torch.int64, device="cuda")
        cnt = torch.zeros(1, dtype=torch.int64, device="cuda")
        ge = lambda: lib.ge_nms(bx.data_ptr(), sc.data_ptr(), n, 0.5, ws.data_ptr(), ws.numel(), keep.data_ptr(),
                                cnt.data_ptr(), stream())
        check(ge(), "nms")
        ref = torchvision.ops.nms(bx, sc, 0.5)
        torch.cuda.synchronize()
        same = torch.equal(keep[: int(cnt.item())], ref)
        row = {"op": op, "size": str(n), "torchvision_us": timed(lambda: torchvision.ops.nms(bx, sc, 0.5), reps, inner),
               "groundeval_us": timed(ge, reps, inner), "identical_keep": same, "kept": int(ref.numel()),
               "workspace_bytes": ws.numel()}
        rows.append(row)
        return row

    for n in (1000, 10000, 30000):
        r = nms_row("NMS, clustered boxes", clustered(n))
        goal(f"NMS {n} clustered boxes: speed-up over torchvision", r["torchvision_us"] / r["groundeval_us"], 2.0)
    for n in ([1000, 10000] if args.quick else [1000, 10000, 30000]):
        nms_row("NMS, uniform boxes", boxes(n, gen))

    images, per, classes = 64, 1000, 80
    n = images * per
    bx = boxes(n, gen)
    sc = torch.randperm(n, generator=gen, device="cuda").float() / n + 1e-3
    img = torch.arange(n, device="cuda") // per
    cls = torch.randint(0, classes, (n,), generator=gen, device="cuda")
    seg_id = img * classes + cls
    def grouped():
        order = torch.argsort(seg_id, stable=True)
        counts = torch.bincount(seg_id, minlength=images * classes)
        return order, counts
    order, counts = grouped()
    off_host = [0] + torch.cumsum(counts, 0).tolist()
    offs = torch.tensor(off_host, dtype=torch.int64, device="cuda")
    off_arr = (ctypes.c_size_t * len(off_host))(*off_host)
    ws = torch.empty(lib.ge_segmented_nms_workspace_bytes(off_arr, images * classes), dtype=torch.uint8, device="cuda")
    keep = torch.empty(n, dtype=torch.int64, device="cuda")
    cnt = torch.zeros(images * classes, dtype=torch.int64, device="cuda")
    gb, gs = bx[order].contiguous(), sc[order].contiguous()
    def ge_batched():
        o, _ = grouped()  # the grouping sort is part of groundeval's cost here (torchvision takes ungrouped input)
        b2, s2 = bx[o], sc[o]
        check(lib.ge_segmented_nms(b2.data_ptr(), s2.data_ptr(), offs.data_ptr(), images * classes, n, 0.5,
                                   ws.data_ptr(), ws.numel(), keep.data_ptr(), cnt.data_ptr(), stream()), "segmented_nms")
    check(lib.ge_segmented_nms(gb.data_ptr(), gs.data_ptr(), offs.data_ptr(), images * classes, n, 0.5,
                               ws.data_ptr(), ws.numel(), keep.data_ptr(), cnt.data_ptr(), stream()), "segmented_nms")
    ref = torchvision.ops.batched_nms(bx, sc, seg_id, 0.5)
    torch.cuda.synchronize()
    c = cnt.cpu().tolist()
    k = keep.cpu().tolist()
    ours = sorted(order[torch.tensor([k[off_host[s] + i] for s in range(len(c)) for i in range(c[s])], dtype=torch.int64, device="cuda")].tolist())
    rows.append({"op": "batched NMS 64 img x 1000 boxes, 80 classes", "size": str(n),
                 "torchvision_us": timed(lambda: torchvision.ops.batched_nms(bx, sc, seg_id, 0.5), reps, inner),
                 "groundeval_us": timed(ge_batched, reps, inner), "identical_keep": ours == sorted(ref.tolist()),
                 "torchvision_peak_bytes": peak_mem(lambda: torchvision.ops.batched_nms(bx, sc, seg_id, 0.5)),
                 "workspace_bytes": ws.numel()})

    # Grounding DINO post-processing (issue 7); an error here still leaves the rows above printed.
    try:
        if not hasattr(lib, "ge_postprocess"):
            raise RuntimeError("the shim has no ge_postprocess (rebuild build-gpu)")
        for p, target in ((16, 100.0), (80, 200.0)):
            for r in gdino_section(lib, reps, inner, p=p, rows=[]):
                r["target_us"] = target
                rows.append(r)
                goal(f"{r['op']} {r['size']}: time", r["groundeval_us"], target, higher_is_better=False, unit="µs")
    except Exception as e:  # noqa: BLE001 - reported in the table and the exit status
        rows.append({"op": "Grounding DINO post-processing", "size": "B32 Q900 T256 P16 k300", "ok": False,
                     "error": repr(e), "check": f"**ERROR** {e!r}"})

    for r in rows:  # every section's pass / fail
        if "ok" not in r:
            r["ok"] = (r["max_abs_diff"] <= 1e-6 and r.get("argmax_mismatches_where_values_differ_from_ties", 0) == 0
                       if "max_abs_diff" in r else bool(r.get("identical_keep")))
    results["all_checks_ok"] = all(r["ok"] for r in rows)
    with open(f"{args.out}/compare.json", "w") as f:
        json.dump(results, f, indent=2)
    print(f"GPU: {results['gpu']}, torch {results['torch']}, torchvision {results['torchvision']}, {results['date']}")
    print(f"device-to-device copy: {copy_bw / 1e12:.2f} TB/s (read + write)\n")
    print("| op | size | torchvision µs | groundeval µs | speed-up | check |")
    print("|---|---|---:|---:|---:|---|")
    for r in rows:
        if "check" in r:
            chk = r["check"]
        elif "max_abs_diff" in r:
            chk = f"max |diff| {r['max_abs_diff']:.1e}" + ("" if r["ok"] else " **FAILED**")
        else:
            chk = "identical keep" if r["ok"] else "**keep differs**"
        if "groundeval_us" not in r:
            print(f"| {r['op']} | {r['size']} | — | — | — | {chk} |")
            continue
        print(f"| {r['op']} | {r['size']} | {r['torchvision_us']:.1f} | {r['groundeval_us']:.1f} | "
              f"{r['torchvision_us'] / r['groundeval_us']:.1f}x | {chk} |")
    print("\nGrounding DINO rows: the torch column is PostProcessCocoGrounding in plain torch (sigmoid, @ map, topk "
          "300, gather, scale); groundeval returns per-phrase lists [B, P, 300]; issue 7's target is <= 100 µs.")
    print(f"\nwrite-only bandwidth (zero_, 1 GiB): {write_bw / 1e12:.2f} TB/s\n")
    print("| goal (issue 19) | measured | target | met |")
    print("|---|---:|---:|:---:|")
    for g in goals:
        cmp = ">=" if g["higher_is_better"] else "<="
        fmt = (lambda v: f"{v:.1f} µs") if g["unit"] == "µs" else (lambda v: f"{v:.2f}")
        print(f"| {g['goal']} | {fmt(g['measured'])} | {cmp} {fmt(g['target'])} | {'yes' if g['met'] else '**no**'} |")
    results["goals_met"] = sum(g["met"] for g in goals)
    print(f"\ngoals met: {results['goals_met']} of {len(goals)}")
    with open(f"{args.out}/compare.json", "w") as f:
        json.dump(results, f, indent=2)
    if not results["all_checks_ok"]:
        print("FAILED checks: " + ", ".join(f"{r['op']} {r['size']}" for r in rows if not r["ok"]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
