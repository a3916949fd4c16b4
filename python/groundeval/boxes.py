# SPDX-License-Identifier: Apache-2.0
"""Box operations named and shaped like ``torchvision.ops``, on numpy arrays, any CPU array that
speaks DLPack, and torch CUDA tensors.

Where the data lives decides the path:

* numpy arrays, lists, and CPU DLPack arrays (torch CPU tensors, ...) run groundeval's CPU
  drivers (multi-threaded, no copy when the input is already C-contiguous float32 / float64);
* torch CUDA tensors run groundeval's CUDA kernels on the tensor's device and on torch's current
  stream, asynchronously and without copies (outputs are allocated with torch on that device).
  Needs a groundeval built with CUDA (``groundeval._core.built_with_cuda``).

Results come back in the caller's framework: numpy for numpy input, torch for torch input, the
array's own namespace (``__array_namespace__``) for other DLPack arrays when it has one.

Boxes are (x1, y1, x2, y2) corners. Differences from torchvision (the tests check the rest is
equal):

* IoU is groundeval's defined IoU (docs/boxes.md): a zero-area, inverted or NaN box has IoU 0
  with everything, where torchvision returns NaN for two zero-area boxes (0 / 0) and
  meaningless values for inverted boxes. GIoU likewise returns 0 where torchvision divides 0 by 0.
* dtypes: float64 input is computed and returned in float64; every other dtype (float16, bfloat16,
  integers) in float32, returned as float32 (torchvision keeps float16 / bfloat16 on return). The
  CUDA kernels are float32 only: float64 CUDA tensors are converted to float32 first (a copy).
* nms / batched_nms: the same rule (IoU > threshold suppresses, strict) and the same output
  (kept indices, int64, by decreasing score). Equal scores are visited in index order (a stable
  sort), which torchvision does not promise. A NaN score is an error on the CPU
  (groundeval.Error naming its index); on the GPU a NaN-scored box is never kept.
* max_iou has no torchvision counterpart: it is ``box_iou(a, b).max(dim=1)`` (values and the
  first index reaching the maximum) without materializing the matrix; an empty ``b`` gives
  (0, -1) per row.
"""
import numpy as np

from ._native import core

# ---- framework detection -----------------------------------------------------------------------

_DLPACK_CPU = 1
_DLPACK_CUDA = 2


def _torch_module(x):
    t = type(x)
    if t.__module__.split(".")[0] != "torch":
        return None
    import torch  # noqa: PLC0415 (torch is optional)
    return torch if isinstance(x, torch.Tensor) else None


def _is_cuda(x):
    dev = getattr(x, "__dlpack_device__", None)
    if dev is None:
        return False
    try:
        return dev()[0] != _DLPACK_CPU
    except (TypeError, ValueError, RuntimeError):
        return False


class _Host:
    """A CPU input as a numpy array, and how to give results back in the caller's framework."""

    def __init__(self, x):
        self.torch = _torch_module(x)
        self.xp = None
        if self.torch is not None:
            self.array = x.detach().numpy() if x.dtype != self.torch.bfloat16 else (
                x.detach().float().numpy())
        elif isinstance(x, np.ndarray):
            self.array = x
        elif hasattr(x, "__dlpack__"):
            self.array = np.from_dlpack(x)
            ns = getattr(x, "__array_namespace__", None)
            self.xp = ns() if ns is not None else None
        else:
            self.array = np.asarray(x)

    def give(self, a):
        if self.torch is not None:
            return self.torch.from_numpy(a)
        if self.xp is not None and hasattr(self.xp, "from_dlpack"):
            return self.xp.from_dlpack(a)
        return a


def _dtype_for(*arrays):
    return np.float64 if all(a.dtype == np.float64 for a in arrays) else np.float32


def _boxes(a, dtype, what):
    a = np.ascontiguousarray(a, dtype=dtype)
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"{what}: boxes must have shape (N, 4), got {a.shape}")
    return a


def _vector(v, dtype, n, what):
    v = np.ascontiguousarray(v, dtype=dtype)
    if v.ndim != 1 or v.shape[0] != n:
        raise ValueError(f"{what}: expected shape ({n},), got {v.shape}")
    return v


# ---- torch CUDA path -----------------------------------------------------------------------------

class _Cuda:
    """Context of a torch CUDA call: device, current stream, DLPack capsules on that stream."""

    def __init__(self, torch, *tensors):
        self.torch = torch
        c = core()
        if not getattr(c, "built_with_cuda", False):
            raise RuntimeError(
                "groundeval was built without CUDA, so it cannot run on CUDA tensors without "
                "copying them; move them to the CPU (.cpu()) or install groundeval on a machine "
                "with the CUDA toolkit (nvcc)")
        self.core = c
        self.device = tensors[0].device
        for t in tensors[1:]:
            if t.device != self.device:
                raise ValueError(f"all tensors must be on one device, got {self.device} and "
                                 f"{t.device}")
        self.stream = torch.cuda.current_stream(self.device).cuda_stream

    def capsule(self, t):
        # DLPack's stream argument: torch's legacy default stream is 1 (0 is not allowed). Handing
        # torch the stream the kernel will run on means torch adds no synchronization.
        return t.__dlpack__(stream=self.stream if self.stream != 0 else 1)

    def boxes(self, t, what):
        if t.dim() != 2 or t.shape[1] != 4:
            raise ValueError(f"{what}: boxes must have shape (N, 4), got {tuple(t.shape)}")
        return t.detach().to(self.torch.float32).contiguous()

    def empty(self, shape, dtype):
        return self.torch.empty(shape, dtype=dtype, device=self.device)


def _cuda_pairwise(fn_name, a, b, torch):
    cu = _Cuda(torch, a, b)
    a, b = cu.boxes(a, fn_name), cu.boxes(b, fn_name)
    out = cu.empty((a.shape[0], b.shape[0]), torch.float32)
    if out.numel():
        getattr(cu.core, "cuda_" + fn_name)(cu.capsule(a), cu.capsule(b), cu.capsule(out),
                                            cu.stream)
    return out


def _cuda_nms(boxes, scores, idxs, iou_threshold, torch):
    cu = _Cuda(torch, boxes, scores) if idxs is None else _Cuda(torch, boxes, scores, idxs)
    b = cu.boxes(boxes, "nms")
    n = b.shape[0]
    s = scores.detach().to(torch.float32).contiguous()
    if s.dim() != 1 or s.shape[0] != n:
        raise ValueError(f"nms: scores must have shape ({n},), got {tuple(s.shape)}")
    if n == 0:
        return cu.empty((0,), torch.int64)
    order = None
    offsets = [0, n]
    if idxs is not None:
        # One segment per class, each contiguous: a stable sort by class id (a device sort; the
        # segment sizes come to the host because they size the workspace).
        order = torch.argsort(idxs.detach(), stable=True)
        b, s = b[order].contiguous(), s[order].contiguous()
        _, counts = torch.unique_consecutive(idxs.detach()[order], return_counts=True)
        offsets = [0, *torch.cumsum(counts, 0).tolist()]
    workspace = cu.empty((max(1, cu.core.cuda_nms_workspace_bytes(offsets)),), torch.uint8)
    dev_offsets = torch.tensor(offsets, dtype=torch.int64, device=cu.device)
    keep = cu.empty((n,), torch.int64)
    count = torch.zeros(len(offsets) - 1, dtype=torch.int64, device=cu.device)
    cu.core.cuda_segmented_nms(cu.capsule(b), cu.capsule(s), offsets, cu.capsule(dev_offsets),
                               float(iou_threshold), cu.capsule(workspace), cu.capsule(keep),
                               cu.capsule(count), cu.stream)
    counts = count.tolist()  # the one host synchronization (the result's length)
    if order is None:
        return keep[:counts[0]]
    kept = torch.cat([keep[o:o + c] for o, c in zip(offsets[:-1], counts)])
    kept = torch.sort(order[kept]).values  # original indices, ascending
    return kept[torch.argsort(scores.detach()[kept].to(torch.float32), descending=True,
                              stable=True)]


# ---- public API ----------------------------------------------------------------------------------

def _pairwise(name, a, b):
    torch = _torch_module(a)
    if _is_cuda(a) or _is_cuda(b):
        if torch is None or _torch_module(b) is None:
            raise TypeError(f"{name}: CUDA arrays are supported as torch tensors (others: move "
                            "them to the CPU)")
        return _cuda_pairwise(name, a, b, torch)
    ha, hb = _Host(a), _Host(b)
    dt = _dtype_for(ha.array, hb.array)
    pa, pb = _boxes(ha.array, dt, name), _boxes(hb.array, dt, name)
    out = np.empty((pa.shape[0], pb.shape[0]), dtype=dt)
    getattr(core(), name)(pa, pb, out)
    return ha.give(out)


def box_iou(boxes1, boxes2):
    """IoU of every pair: an (N, M) matrix, like ``torchvision.ops.box_iou``."""
    return _pairwise("box_iou", boxes1, boxes2)


def generalized_box_iou(boxes1, boxes2):
    """Generalized IoU of every pair, in [-1, 1], like ``torchvision.ops.generalized_box_iou``."""
    return _pairwise("generalized_box_iou", boxes1, boxes2)


def max_iou(boxes1, boxes2):
    """For each box of `boxes1`: (max IoU over `boxes2`, index of the first box reaching it), as
    ``box_iou(boxes1, boxes2).max(dim=1)`` without building the (N, M) matrix."""
    torch = _torch_module(boxes1)
    if _is_cuda(boxes1) or _is_cuda(boxes2):
        if torch is None or _torch_module(boxes2) is None:
            raise TypeError("max_iou: CUDA arrays are supported as torch tensors")
        cu = _Cuda(torch, boxes1, boxes2)
        a, b = cu.boxes(boxes1, "max_iou"), cu.boxes(boxes2, "max_iou")
        values, index = cu.empty((a.shape[0],), torch.float32), cu.empty((a.shape[0],), torch.int64)
        if a.shape[0]:
            cu.core.cuda_max_iou(cu.capsule(a), cu.capsule(b), cu.capsule(values),
                                 cu.capsule(index), cu.stream)
        return values, index
    ha, hb = _Host(boxes1), _Host(boxes2)
    dt = _dtype_for(ha.array, hb.array)
    pa, pb = _boxes(ha.array, dt, "max_iou"), _boxes(hb.array, dt, "max_iou")
    values, index = np.empty(pa.shape[0], dtype=dt), np.empty(pa.shape[0], dtype=np.int64)
    core().max_iou(pa, pb, values, index)
    return ha.give(values), ha.give(index)


def nms(boxes, scores, iou_threshold):
    """Greedy non-maximum suppression, like ``torchvision.ops.nms``: the indices (int64) of the
    kept boxes by decreasing score; a box is dropped when its IoU with a kept box is greater
    than `iou_threshold`."""
    return batched_nms(boxes, scores, None, iou_threshold)


def batched_nms(boxes, scores, idxs, iou_threshold):
    """NMS within each category of `idxs` (boxes of different categories never suppress each
    other), like ``torchvision.ops.batched_nms``; `idxs` None is plain :func:`nms`."""
    name = "nms" if idxs is None else "batched_nms"
    torch = _torch_module(boxes)
    if _is_cuda(boxes) or _is_cuda(scores) or (idxs is not None and _is_cuda(idxs)):
        if torch is None:
            raise TypeError(f"{name}: CUDA arrays are supported as torch tensors")
        return _cuda_nms(boxes, scores, idxs, iou_threshold, torch)
    hb, hs = _Host(boxes), _Host(scores)
    dt = _dtype_for(hb.array, hs.array)
    b = _boxes(hb.array, dt, name)
    s = _vector(hs.array, dt, b.shape[0], name + ": scores")
    if idxs is None:
        keep = core().nms(b, s, float(iou_threshold))
    else:
        i = _vector(_Host(idxs).array, np.int64, b.shape[0], name + ": idxs")
        keep = core().batched_nms(b, s, i, float(iou_threshold))
    return hb.give(keep)
