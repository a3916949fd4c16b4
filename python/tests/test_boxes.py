# SPDX-License-Identifier: Apache-2.0
"""box_iou / generalized_box_iou / max_iou / nms / batched_nms against torchvision.ops on the CPU
(random, degenerate and tied boxes), the framework round trip (numpy in -> numpy out, torch in ->
torch out), and the CUDA path where a CUDA device and a CUDA build exist (skipped otherwise)."""
import numpy as np
import pytest

import groundeval

torch = pytest.importorskip("torch")  # pinned in python/requirements-torch.txt: runs in CI
tv_ops = pytest.importorskip("torchvision.ops")


def random_boxes(rng, n, scale=100.0, dtype=np.float32):
    xy = rng.uniform(0, scale, (n, 2))
    wh = rng.uniform(0, scale / 3, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(dtype)


def degenerate_boxes(rng, n):
    """Zero-width, zero-height, point, identical, touching and nested boxes, on a small integer
    grid so that exact ties and equal areas are frequent."""
    b = rng.integers(0, 6, (n, 4)).astype(np.float32)
    b[:, 2:] = b[:, :2] + rng.integers(0, 3, (n, 2))  # widths / heights 0, 1, 2
    b[: n // 4] = b[0]  # identical boxes
    return b


def tv_iou_defined(a, b):
    """torchvision's box_iou with its 0/0 NaNs replaced by 0: groundeval's defined IoU."""
    r = tv_ops.box_iou(torch.from_numpy(a), torch.from_numpy(b))
    return torch.nan_to_num(r, nan=0.0).numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_box_iou_random_equals_torchvision(dtype):
    rng = np.random.default_rng(1)
    a, b = random_boxes(rng, 300, dtype=dtype), random_boxes(rng, 200, dtype=dtype)
    got = groundeval.box_iou(a, b)
    assert got.dtype == dtype and got.shape == (300, 200)
    want = tv_ops.box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_array_equal(got, want)  # the same float operations: bit-identical
    # large enough for the multi-threaded SoA path (more than 2^14 pairs) and torch in, torch out
    a, b = random_boxes(rng, 700, dtype=dtype), random_boxes(rng, 600, dtype=dtype)
    got = groundeval.box_iou(torch.from_numpy(a), torch.from_numpy(b))
    assert isinstance(got, torch.Tensor)
    assert torch.equal(got, tv_ops.box_iou(torch.from_numpy(a), torch.from_numpy(b)))


def test_box_iou_degenerate_equals_torchvision_where_defined():
    rng = np.random.default_rng(2)
    a, b = degenerate_boxes(rng, 64), degenerate_boxes(rng, 48)
    got = groundeval.box_iou(a, b)
    raw = tv_ops.box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    nan = np.isnan(raw)
    assert nan.any(), "the degenerate set must contain zero-area pairs (0 / 0 in torchvision)"
    np.testing.assert_array_equal(got[~nan], raw[~nan])
    assert (got[nan] == 0).all()  # groundeval's defined IoU of zero-area pairs


def test_generalized_box_iou_equals_torchvision():
    rng = np.random.default_rng(3)
    a, b = random_boxes(rng, 120), random_boxes(rng, 90)
    got = groundeval.generalized_box_iou(a, b)
    want = tv_ops.generalized_box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-7)
    d = degenerate_boxes(rng, 40)
    got = groundeval.generalized_box_iou(d, d)
    raw = tv_ops.generalized_box_iou(torch.from_numpy(d), torch.from_numpy(d)).numpy()
    ok = np.isfinite(raw)
    np.testing.assert_allclose(got[ok], raw[ok], rtol=0, atol=2e-7)
    assert np.isfinite(got).all()


def test_max_iou_equals_box_iou_max():
    rng = np.random.default_rng(4)
    a, b = degenerate_boxes(rng, 50), degenerate_boxes(rng, 70)  # many ties
    values, index = groundeval.max_iou(a, b)
    full = tv_iou_defined(a, b)
    np.testing.assert_array_equal(values, full.max(1))
    np.testing.assert_array_equal(index, full.argmax(1))  # the first index reaching the max
    v, i = groundeval.max_iou(a, np.zeros((0, 4), np.float32))
    assert (v == 0).all() and (i == -1).all()


def tv_keep(boxes, scores, idxs=None, thr=0.5):
    b, s = torch.from_numpy(boxes), torch.from_numpy(scores)
    if idxs is None:
        return tv_ops.nms(b, s, thr).numpy()
    return tv_ops.batched_nms(b, s, torch.from_numpy(idxs), thr).numpy()


@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_nms_equals_torchvision(thr):
    rng = np.random.default_rng(5)
    for n in (0, 1, 10, 500):
        boxes = random_boxes(rng, n)
        scores = rng.random(n).astype(np.float32)
        np.testing.assert_array_equal(groundeval.nms(boxes, scores, thr),
                                      tv_keep(boxes, scores, thr=thr))
        idxs = rng.integers(0, 7, n)
        np.testing.assert_array_equal(groundeval.batched_nms(boxes, scores, idxs, thr),
                                      tv_keep(boxes, scores, idxs, thr))


def test_nms_degenerate_and_ties_equal_torchvision():
    rng = np.random.default_rng(6)
    boxes = degenerate_boxes(rng, 200)
    # few distinct scores: ties everywhere; torchvision's CPU kernel sorts them stably, so equal
    # scores are visited in index order, as groundeval does by definition
    scores = rng.integers(0, 4, 200).astype(np.float32)
    idxs = rng.integers(0, 3, 200)
    for thr in (0.0, 0.5, 1.0):
        np.testing.assert_array_equal(groundeval.nms(boxes, scores, thr),
                                      tv_keep(boxes, scores, thr=thr))
        np.testing.assert_array_equal(groundeval.batched_nms(boxes, scores, idxs, thr),
                                      tv_keep(boxes, scores, idxs, thr))
    # torch in, torch out
    keep = groundeval.nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.5)
    assert isinstance(keep, torch.Tensor) and keep.dtype == torch.int64


def test_inputs_checked():
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        groundeval.box_iou(np.zeros((3, 5)), np.zeros((2, 4)))
    with pytest.raises(groundeval.Error, match="NaN"):
        groundeval.nms(np.zeros((2, 4)), np.array([0.5, np.nan]), 0.5)
    with pytest.raises(ValueError, match="scores"):
        groundeval.nms(np.zeros((2, 4)), np.zeros(3), 0.5)
    # lists work, and float64 stays float64
    assert groundeval.box_iou([[0, 0, 2, 2]], [[1, 1, 3, 3]])[0, 0] == pytest.approx(1 / 7)
    assert groundeval.box_iou(np.zeros((1, 4)), np.zeros((1, 4))).dtype == np.float64


def cuda_ready():
    from groundeval._native import core
    return (torch.cuda.is_available() and core().built_with_cuda
            and core().cuda_device_count() > 0)


needs_cuda = pytest.mark.skipif(
    not cuda_ready(), reason="needs a CUDA device, torch with CUDA and groundeval built with CUDA "
    "(the CPU path above covers the same semantics; bench/gpu/python_check.sh runs these)")


@needs_cuda
def test_cuda_equals_cpu_and_torchvision():
    rng = np.random.default_rng(7)
    dev = torch.device("cuda")
    for a, b in ((random_boxes(rng, 1000), random_boxes(rng, 700)),
                 (degenerate_boxes(rng, 64), degenerate_boxes(rng, 64))):
        ta, tb = torch.from_numpy(a).to(dev), torch.from_numpy(b).to(dev)
        got = groundeval.box_iou(ta, tb)
        assert got.is_cuda and got.device == ta.device
        np.testing.assert_array_equal(got.cpu().numpy(), groundeval.box_iou(a, b))
        g = groundeval.generalized_box_iou(ta, tb).cpu().numpy()
        np.testing.assert_allclose(g, groundeval.generalized_box_iou(a, b), rtol=0, atol=2e-7)
        v, i = groundeval.max_iou(ta, tb)
        cv, ci = groundeval.max_iou(a, b)
        np.testing.assert_array_equal(v.cpu().numpy(), cv)
        np.testing.assert_array_equal(i.cpu().numpy(), ci)
    boxes, scores = random_boxes(rng, 3000), rng.random(3000).astype(np.float32)
    idxs = rng.integers(0, 20, 3000)
    tb, ts, ti = (torch.from_numpy(x).to(dev) for x in (boxes, scores, idxs))
    keep = groundeval.nms(tb, ts, 0.5)
    assert keep.is_cuda
    np.testing.assert_array_equal(keep.cpu().numpy(), tv_ops.nms(tb, ts, 0.5).cpu().numpy())
    keep = groundeval.batched_nms(tb, ts, ti, 0.5)
    np.testing.assert_array_equal(keep.cpu().numpy(),
                                  groundeval.batched_nms(boxes, scores, idxs, 0.5))


@needs_cuda
def test_cuda_uses_current_stream():
    rng = np.random.default_rng(8)
    a = torch.from_numpy(random_boxes(rng, 2048)).cuda()
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        out = groundeval.box_iou(a, a)  # queued on s, no synchronization
        ref = tv_ops.box_iou(a, a)
    s.synchronize()
    assert torch.equal(out, ref)
