#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Side-by-side timing of groundeval's CUDA kernels and torchvision on the same GPU, the same
tensors and the same stream, in one process (bench/gpu/run.sh calls it on the GPU machine).

groundeval is loaded through its C ABI shim (libgroundeval_cuda_capi.so) with ctypes; device
pointers come from torch tensors and the stream is torch's current stream. Every comparison first
checks correctness (IoU within 1e-6 of torchvision, identical NMS keep sets), then times both
with CUDA events (median of repeated batches). Writes compare.json and prints a Markdown table.

usage: compare_torchvision.py --lib build-gpu/lib/libgroundeval_cuda_capi.so --out DIR [--quick]
"""
import argparse
import ctypes
import json
import statistics
import sys
import time

import torch
import torchvision

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


def main():
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

    for n in ([1000, 10000] if args.quick else [1000, 5000, 10000, 16384]):
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

    for n in ([1000, 10000] if args.quick else [1000, 10000, 30000]):
        bx = boxes(n, gen)
        sc = torch.randperm(n, generator=gen, device="cuda").float() / n + 1e-3  # distinct scores: no ties
        ws = torch.empty(lib.ge_nms_workspace_bytes(n), dtype=torch.uint8, device="cuda")
        keep = torch.empty(n, dtype=torch.int64, device="cuda")
        cnt = torch.zeros(1, dtype=torch.int64, device="cuda")
        ge = lambda: lib.ge_nms(bx.data_ptr(), sc.data_ptr(), n, 0.5, ws.data_ptr(), ws.numel(), keep.data_ptr(), cnt.data_ptr(), stream())
        check(ge(), "nms")
        ref = torchvision.ops.nms(bx, sc, 0.5)
        torch.cuda.synchronize()
        same = torch.equal(keep[: int(cnt.item())], ref)
        rows.append({"op": "NMS", "size": str(n), "torchvision_us": timed(lambda: torchvision.ops.nms(bx, sc, 0.5), reps, inner),
                     "groundeval_us": timed(ge, reps, inner), "identical_keep": same, "workspace_bytes": ws.numel()})

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

    with open(f"{args.out}/compare.json", "w") as f:
        json.dump(results, f, indent=2)
    print(f"GPU: {results['gpu']}, torch {results['torch']}, torchvision {results['torchvision']}, {results['date']}")
    print(f"device-to-device copy: {copy_bw / 1e12:.2f} TB/s (read + write)\n")
    print("| op | size | torchvision µs | groundeval µs | speed-up | check |")
    print("|---|---|---:|---:|---:|---|")
    for r in rows:
        chk = f"max |diff| {r['max_abs_diff']:.1e}" if "max_abs_diff" in r else ("identical keep" if r.get("identical_keep") else "**keep differs**")
        print(f"| {r['op']} | {r['size']} | {r['torchvision_us']:.1f} | {r['groundeval_us']:.1f} | "
              f"{r['torchvision_us'] / r['groundeval_us']:.1f}x | {chk} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
