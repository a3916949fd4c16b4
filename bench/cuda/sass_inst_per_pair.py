#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Instructions per IoU pair in the inner loop of the pairwise IoU kernels, read from their SASS.

No GPU needed: the kernels' object file (build/kernels/CMakeFiles/groundeval_cuda.dir/iou.cu.o)
is disassembled with `cuobjdump -sass` (NVIDIA's, from the CUDA toolkit or the nvidia-cuda-cuobjdump
and nvidia-cuda-nvdisasm wheels that scripts/setup-cuda-tools.sh installs), and for each
pairwise_iou_kernel<Out, VecStore = true> the script

  1. finds the innermost loop (a backward branch) that holds the kernel's vector stores
     (STG.E.EF.128, or STG.E.EF.64 for uint8);
  2. walks its body along the common path: every instruction counts (BSSY / BSYNC and the
     branches included) except the blocks that a forward branch skips and that call the IEEE
     division's slow-path subroutine (CALL.REL: reached only for denormal, zero, Inf or NaN
     operands, which iou_prepared keeps out of the division; see boxes/iou.hpp);
  3. divides by the pairs the body produces: vector stores x elements per store.

It prints one line per output type and, with --goal G, exits 1 when any type of --check (default:
f32) needs more than G instructions per pair, or when a kernel or its loop is not found (a check
that cannot find what it measures fails; it never passes vacuously).

usage: sass_inst_per_pair.py OBJECT [--arch all|sm_90,...] [--goal 30] [--check f32,f16,bf16,u8]
       [--search DIR ...] [--json OUT]
(--arch all, the default: every sm_XX whose SASS the object holds. cuobjdump is looked up in
$CUOBJDUMP, the --search folders, PATH and /usr/local/cuda/bin; nvdisasm must sit beside it.)
"""
import argparse
import json
import os
import re
import subprocess
import sys

KERNELS = {  # output type -> (mangled Out of pairwise_iou_kernel<Out, true>, elements per store)
    "f32": ("IfLb1E", 4),
    "f16": ("I6__halfLb1E", 8),
    "bf16": ("I13__nv_bfloat16Lb1E", 8),
    "u8": ("IhLb1E", 8),
}
INSN = re.compile(r"^\s*/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;?\s*(?:/\*.*)?$")


def functions(sass):
    """{mangled name: [(address, instruction text)]} from cuobjdump -sass output."""
    out, cur = {}, None
    for line in sass.splitlines():
        m = re.match(r"\s*Function : (\S+)", line)
        if m:
            cur = out.setdefault(m.group(1), [])
            continue
        m = INSN.match(line)
        if m and cur is not None:
            text = m.group(2).rstrip(" ;")
            if text and not text.startswith("NOP"):
                cur.append((int(m.group(1), 16), text))
    return out


def branch_target(text):
    m = re.search(r"\bBRA\s+(?:!?U?P\w+,\s*)?(0x[0-9a-f]+)", text)
    return int(m.group(1), 16) if m else None


def inner_loop(code, store_op):
    """(first, last) indices of the innermost loop that contains a store_op, or None."""
    addr = [a for a, _ in code]
    best = None
    for i, (a, t) in enumerate(code):
        tgt = branch_target(t)
        if tgt is None or tgt >= a:
            continue
        j = addr.index(tgt) if tgt in addr else None
        if j is None or not any(store_op in code[k][1] for k in range(j, i + 1)):
            continue
        if best is None or i - j < best[1] - best[0]:
            best = (j, i)
    return best


def common_path(code, first, last):
    """Instructions executed along the common path of the loop body code[first..last]."""
    addr = [a for a, _ in code]
    count, k, skipped = 0, first, 0
    while k <= last:
        t = code[k][1]
        count += 1
        tgt = branch_target(t)
        if tgt is not None and tgt > code[k][0] and tgt <= code[last][0]:
            j = addr.index(tgt)
            if any(code[x][1].startswith("CALL") for x in range(k + 1, j)):
                skipped += j - k - 1
                k = j
                continue
        k += 1
    return count, skipped


def measure(funcs, arch, args, results):
    """Prints and records (results[arch][kind]) every output type; False when a checked one fails."""
    ok = True
    for kind, (tag, per_store) in KERNELS.items():
        name = next((f for f in funcs if "pairwise_iou_kernel" in f and tag in f), None)
        store_op = "STG.E.EF.64" if kind == "u8" else "STG.E.EF.128"
        loop = inner_loop(funcs[name], store_op) if name else None
        if loop is None:
            print(f"{arch} {kind}: kernel or its store loop not found in {args.object}")
            ok = ok and kind not in args.check.split(",")
            continue
        code = funcs[name]
        first, last = loop
        stores = sum(store_op in code[k][1] for k in range(first, last + 1))
        executed, skipped = common_path(code, first, last)
        pairs = stores * per_store
        r = {"loop_instructions": last - first + 1, "slow_path_skipped": skipped,
             "common_path_instructions": executed, "pairs_per_iteration": pairs,
             "instructions_per_pair": executed / pairs}
        results.setdefault(arch, {})[kind] = r
        line = (f"{arch} {kind:>4}: {r['instructions_per_pair']:.2f} instructions per pair ({executed} on the "
                f"common path of a {r['loop_instructions']}-instruction loop body making {pairs} pairs; "
                f"{skipped} slow-path instructions not counted)")
        if args.goal is not None and kind in args.check.split(","):
            met = r["instructions_per_pair"] <= args.goal
            line += f"  goal <= {args.goal:g}: {'met' if met else 'NOT MET'}"
            ok = ok and met
        print(line)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("object")
    ap.add_argument("--arch", default="all")
    ap.add_argument("--goal", type=float)
    ap.add_argument("--check", default="f32")
    ap.add_argument("--search", action="append", default=[])
    ap.add_argument("--json")
    args = ap.parse_args()
    tool = os.environ.get("CUOBJDUMP")
    for d in args.search + os.environ.get("PATH", "").split(os.pathsep) + ["/usr/local/cuda/bin"]:
        if tool:
            break
        if d and os.access(os.path.join(d, "cuobjdump"), os.X_OK):
            tool = os.path.join(d, "cuobjdump")
    if not tool:
        print("sass_inst_per_pair: no cuobjdump found (scripts/setup-cuda-tools.sh installs NVIDIA's)", file=sys.stderr)
        return 2
    env = dict(os.environ, PATH=os.path.dirname(os.path.realpath(tool)) + os.pathsep + os.environ.get("PATH", ""))
    archs = args.arch.split(",")
    if args.arch == "all":
        listing = subprocess.run([tool, "--list-elf", args.object], check=True, capture_output=True, text=True,
                                 env=env).stdout
        archs = sorted(set(re.findall(r"\.(sm_\d+a?)\.", listing)))
        if not archs:
            print(f"sass_inst_per_pair: no SASS in {args.object}", file=sys.stderr)
            return 1
    results, ok = {}, True
    for arch in archs:
        # disassemble only the kernels measured (-fun): much faster than the whole library
        elf = subprocess.run([tool, "-elf", "-arch", arch, args.object], check=True, capture_output=True, text=True,
                             env=env).stdout
        names = sorted(set(re.findall(r"_ZN\w*pairwise_iou_kernel\w*Lb1E\w*", elf)))
        cmd = [tool, "-sass", "-arch", arch] + (["-fun", ",".join(names)] if names else []) + [args.object]
        sass = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
        ok = measure(functions(sass), arch, args, results) and ok
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
