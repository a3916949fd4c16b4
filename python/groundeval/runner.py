# SPDX-License-Identifier: Apache-2.0
"""Python models through the C++ runner: :func:`run` asks a Python grounder every evaluation
query of a data set and records the answers in a run directory, exactly as ``groundeval run``
does for its built-in grounders (resume, shards, a sentence limit, batches written and fsync'ed
one at a time, progress, a clean stop on Ctrl-C, the manifest), so :func:`groundeval.evaluate`,
:func:`groundeval.report` and the CLI read the result.

>>> def my_model(request):                       # one request per sentence
...     return [[[10, 20, 200, 180]] for q in request.queries]   # ranked boxes per query
>>> groundeval.run(ds, my_model, "runs/my-model", progress=True)

A grounder is a callable ``f(request)``, or an object with ``ground(request)`` or
``ground_many(requests)`` (a whole batch at once), optionally ``describe()`` (its full
configuration, recorded in the manifest; a resume must describe the same grounder), ``name``,
``batch_size`` and ``measures_latency``. It answers a :class:`Request` with one answer per query,
in query order; an answer is

* the ranked boxes, best first: a list of ``[x1, y1, x2, y2]`` in original-image pixels or an
  (N, 4) array (``[]``: the model answered with no box);
* a dict ``{"boxes": ..., "scores": ..., "status": ..., "raw_text": ..., "message": ...}``
  (every key but "boxes" optional; status "ok", "empty", "format_failure" or "error");
* an exception instance: that query failed, recorded as status "error" with the message.

An exception raised by the grounder is recorded as the error of every query of the request
(of the batch, for ``ground_many``) and the run goes on; KeyboardInterrupt (Ctrl-C) stops the
run after recording what was answered and is raised again; an answer of the wrong shape raises
:class:`groundeval.Error` naming the query (the run stops; what was recorded stays).
"""
import json
import math
import os
import sys
import time
from dataclasses import dataclass

from ._errors import Error
from ._native import core
from .evaluation import write_jsonl

_STATUSES = ("ok", "empty", "format_failure", "error")


@dataclass(frozen=True)
class PhraseQuery:
    """One phrase to ground, as the grounder sees it (no ground truth)."""
    text: str
    span: tuple             # (begin, end): request.sentence[begin:end] is the phrase (str indices)
    phrase_index: int       # index among all annotated phrases of the sentence
    key: str                # "image_id/sentence_id/phrase_index", as Query.key


@dataclass(frozen=True)
class Request:
    """What a grounder is asked: the evaluable phrases of one sentence of one image that the run
    directory does not hold yet."""
    image_id: str
    image_path: str         # "" when the data set has no image folder
    image_size: tuple       # (width, height) of the original image
    sentence: str
    sentence_id: int
    queries: tuple          # PhraseQuery, in phrase order


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands, given to a progress callable before the first batch and after each."""
    total: int              # queries of the selection
    already: int            # recorded before this call
    done: int               # recorded by this call so far
    failures: int           # format failures and errors among `done`
    batch: int              # queries of the batch just recorded (0 at the start)
    batch_failures: int
    resumed_records: int    # records the run directory held when it was opened


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` (or :func:`groundeval.replay`) did; `out` is the run directory."""
    status: str             # "complete", "partial" (limit) or "interrupted"
    out: str
    predictions: str        # out/predictions.jsonl
    manifest: str           # out/manifest.json
    total: int              # queries of the selection
    already: int            # recorded before this call
    recorded: int           # recorded by this call
    failures: int           # format failures and errors among `recorded`

    def __fspath__(self):
        return self.out

    def read_manifest(self):
        """The run's manifest.json as a dict."""
        with open(self.manifest, encoding="utf-8") as f:
            return json.load(f)


def _request(t):
    image_id, path, w, h, sentence, sid, qs = t
    # The data set's spans count UTF-8 bytes; a Python grounder indexes the str (code points).
    enc = sentence.encode("utf-8")
    if len(enc) == len(sentence):
        def cp(i):
            return i
    else:
        def cp(i):
            return len(enc[:i].decode("utf-8", errors="ignore"))
    return Request(image_id, path, (w, h), sentence, sid,
                   tuple(PhraseQuery(text, (cp(b), cp(e)), k, f"{image_id}/{sid}/{k}")
                         for text, b, e, k in qs))


def _where(request, query):
    return f"query {query.key} ({query.text!r})"


def _boxes(value, where):
    if hasattr(value, "tolist"):  # numpy arrays, torch tensors
        value = value.tolist()
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise Error(f"grounder answer for {where}: expected a list of boxes [x1, y1, x2, y2] (or "
                    f"an (N, 4) array; [] for no box), got {type(value).__name__} {value!r:.80}")
    out = []
    for i, b in enumerate(value):
        if hasattr(b, "tolist"):
            b = b.tolist()
        try:
            box = [float(c) for c in b]
        except (TypeError, ValueError):
            box = None
        if box is None or len(box) != 4:
            raise Error(f"grounder answer for {where}: box #{i} must be 4 numbers [x1, y1, x2, y2] "
                        f"in original-image pixels, got {b!r:.80}")
        if not all(math.isfinite(c) for c in box):
            raise Error(f"grounder answer for {where}: box #{i} has a non-finite coordinate: "
                        f"{box!r}")
        out.append(box)
    return out


def _failure(exc):
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _answer(a, where, latency):
    """One answer as the C++ side takes it: (status, boxes, scores, raw_text, message, latency)."""
    if isinstance(a, BaseException):
        return ("error", [], [], "", _failure(a), latency)
    if isinstance(a, dict):
        unknown = set(a) - {"boxes", "scores", "status", "raw_text", "message", "latency_s"}
        if unknown:
            raise Error(f"grounder answer for {where}: unknown keys {sorted(unknown)} (expected "
                        "boxes, scores, status, raw_text, message, latency_s)")
        boxes = _boxes(a.get("boxes", []), where)
        scores = a.get("scores")
        if scores is None:
            scores = []
        else:
            if hasattr(scores, "tolist"):
                scores = scores.tolist()
            try:
                scores = [float(s) for s in scores]
            except (TypeError, ValueError):
                raise Error(f"grounder answer for {where}: scores must be numbers, got "
                            f"{a.get('scores')!r:.80}") from None
            if len(scores) != len(boxes):
                raise Error(f"grounder answer for {where}: {len(boxes)} boxes but "
                            f"{len(scores)} scores")
        status = a.get("status") or ("ok" if boxes else "empty")
        if status not in _STATUSES:
            raise Error(f"grounder answer for {where}: status must be one of {_STATUSES}, not "
                        f"{status!r}")
        lat = a.get("latency_s")
        return (status, boxes, scores, str(a.get("raw_text") or ""), str(a.get("message") or ""),
                latency if lat is None else float(lat))
    if a is None:
        raise Error(f"grounder answer for {where}: got None; answer [] for a query with no box")
    boxes = _boxes(a, where)
    return ("ok" if boxes else "empty", boxes, [], "", "", latency)


def _answers(request, answers, latency):
    if isinstance(answers, (str, bytes, dict)) or not hasattr(answers, "__len__"):
        raise Error(f"grounder answer for image {request.image_id} sentence "
                    f"{request.sentence_id}: expected one answer per query (a list of "
                    f"{len(request.queries)}), got {type(answers).__name__}")
    answers = list(answers)
    if len(answers) != len(request.queries):
        raise Error(f"grounder answered {len(answers)} queries of {len(request.queries)} for "
                    f"image {request.image_id} sentence {request.sentence_id} (queries "
                    f"{', '.join(q.key for q in request.queries)})")
    return [_answer(a, _where(request, q), latency) for q, a in zip(request.queries, answers)]


class _Adapter:
    """The grounder as the C++ side calls it: adapter(request tuples) -> (answers, interrupted)."""

    def __init__(self, grounder):
        self.many = getattr(grounder, "ground_many", None)
        self.one = getattr(grounder, "ground", None)
        if self.many is None and self.one is None:
            if not callable(grounder):
                raise TypeError("grounder must be a callable f(request) or an object with "
                                f"ground(request) or ground_many(requests), not "
                                f"{type(grounder).__name__}")
            self.one = grounder

    def __call__(self, raw):
        out = []
        try:
            self._answer(raw, out)
        except KeyboardInterrupt:  # in the grounder or here: keep what was answered, stop
            return out, True
        return out, False

    def _answer(self, raw, out):
        requests = [_request(t) for t in raw]
        if self.many is not None:
            try:
                answers = self.many(requests)
            except Exception as e:  # noqa: BLE001 (recorded, as any grounder error)
                out.extend([("error", [], [], "", _failure(e), -1.0)] * len(r.queries)
                           for r in requests)
                return
            answers = list(answers)
            if len(answers) != len(requests):
                raise Error(f"grounder ground_many answered {len(answers)} requests of "
                            f"{len(requests)}")
            out.extend(_answers(r, a, -1.0) for r, a in zip(requests, answers))
            return
        for r in requests:
            t0 = time.perf_counter()
            try:
                answers = self.one(r)
            except Exception as e:  # noqa: BLE001 (recorded, as any grounder error)
                latency = (time.perf_counter() - t0) / len(r.queries)
                out.append([("error", [], [], "", _failure(e), latency)] * len(r.queries))
                continue
            out.append(_answers(r, answers, (time.perf_counter() - t0) / len(r.queries)))


def _attr(obj, name, default):
    v = getattr(obj, name, None)
    if v is None:
        return default
    return v() if callable(v) else v


def _name(grounder):
    name = _attr(grounder, "name", None)
    if name is None:
        name = getattr(grounder, "__name__", None) or type(grounder).__name__
    return str(name)


class _Bar:
    """progress=True: a tqdm bar (tqdm.auto: a widget in notebooks) when tqdm is installed, else
    one line on stderr rewritten in place."""

    def __init__(self, out):
        self.out = out
        self.bar = None
        self.plain = False

    def __call__(self, p):
        if self.bar is None and not self.plain:
            note = f" (resuming: {p.already} already recorded)" if p.already else ""
            try:
                from tqdm.auto import tqdm  # noqa: PLC0415 (optional)
                self.bar = tqdm(total=p.total, initial=p.already, unit="query",
                                desc=f"run {os.path.basename(self.out)}{note}")
            except ImportError:
                self.plain = True
                sys.stderr.write(f"run {self.out}{note}\n")
        if self.bar is not None:
            self.bar.update(p.batch)
            self.bar.set_postfix(failures=p.failures, refresh=False)
        else:
            sys.stderr.write(f"\rrun: {p.already + p.done}/{p.total} queries, "
                             f"{p.failures} failures")
            sys.stderr.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.plain:
            sys.stderr.write("\n")


def _identity(dataset):
    selection = dataset.sample_description()
    if dataset.ids is not None:
        # No CLI form: `groundeval report` cannot load such a data set from the manifest.
        selection = f"ids={len(dataset.ids)} (Python)"
    return [("dataset", dataset.spec), ("split", dataset.split), ("selection", selection)]


def _shard(shard):
    if shard is None:
        return ""
    if isinstance(shard, tuple) and len(shard) == 2:
        return f"{int(shard[0])}/{int(shard[1])}"
    return str(shard)


def _result(out, t):
    status, predictions, manifest, total, already, recorded, failures, warnings = t
    for w in warnings:
        import warnings as _w  # noqa: PLC0415
        _w.warn(w, stacklevel=3)
    return RunResult(status, out, predictions, manifest, total, already, recorded, failures)


def run(dataset, grounder, out, *, limit=None, shard=None, batch_size=None, progress=None,
        start_over=False, name=None, describe=None, measures_latency=None):
    """Runs `grounder` (a Python callable or object, see the module help) over every evaluation
    query of `dataset` and records the answers in the run directory `out`, through the C++ runner
    of ``groundeval run``; returns a :class:`RunResult`.

    Running again with the same data set and grounder resumes: recorded queries are not asked
    again. A directory holding another run (another data set, selection or grounder description)
    is refused with :class:`groundeval.Error` unless ``start_over=True`` discards it.

    limit: only the first N sentences (of the shard); shard: "i/n" or (i, n), the images of shard
    i of n (join shards with ``groundeval merge``); batch_size: requests (sentences) per batch,
    each batch recorded and fsync'ed before the next (default: the grounder's ``batch_size``,
    else 64; ``ground_many`` gets whole batches); progress: None (quiet), True (a tqdm bar when
    tqdm is installed, else a line on stderr) or a callable taking a :class:`RunProgress`;
    name / describe / measures_latency: override the grounder's own (default: its ``name`` or
    ``__name__``; ``describe()`` or the name; True — pass False for replays and oracles, whose
    time per query measures no model).

    The GIL is released while the runner works and taken only to call the grounder and
    `progress`. Ctrl-C (KeyboardInterrupt) stops the run after recording every answered request;
    the manifest says "interrupted" and KeyboardInterrupt is raised again.
    """
    adapter = _Adapter(grounder)
    name = str(name) if name is not None else _name(grounder)
    description = str(describe) if describe is not None else str(
        _attr(grounder, "describe", name))
    measures = bool(_attr(grounder, "measures_latency", True)
                    if measures_latency is None else measures_latency)
    if batch_size is None:
        batch_size = _attr(grounder, "batch_size", 0)
    if int(batch_size) < 0:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    if limit is not None and (int(limit) != limit or limit < 0):
        raise ValueError(f"limit must be a non-negative integer, not {limit!r}")
    out = os.fspath(out)
    bar = None
    cb = None
    if progress is True:
        bar = _Bar(out)
        cb = bar
    elif callable(progress):
        cb = progress
    elif progress not in (None, False):
        raise TypeError(f"progress must be None, True or a callable, not {progress!r}")
    on_progress = None if cb is None else (lambda *a: cb(RunProgress(*a)))
    session = [("command", "groundeval.run() from Python " + sys.version.split()[0])]
    identity = _identity(dataset) + [("grounder_spec", "python:" + name)]
    try:
        t, raised = core().run(dataset._h, adapter, name, description, measures, out,
                               None if limit is None else int(limit), _shard(shard),
                               int(batch_size), bool(start_over), on_progress, identity, session)
    finally:
        if bar is not None:
            bar.close()
    if raised is not None:
        raise raised
    res = _result(out, t)
    if res.status == "interrupted":
        raise KeyboardInterrupt(f"groundeval.run interrupted: {res.already + res.recorded} of "
                                f"{res.total} queries are recorded in {res.predictions}; run "
                                "again to resume")
    return res


def replay(dataset, predictions, out, start_over=False):
    """Makes the run directory `out` from predictions already made (a file: JSON Lines or MDETR
    JSON, or Python data as :func:`groundeval.evaluate` takes them), as ``groundeval run
    --grounder predictions:FILE`` does (the library's replay grounder, in this process): the
    answers are replayed per query, so the run has a manifest, resumes, and feeds
    :func:`groundeval.report`. Returns a :class:`RunResult`."""
    out = os.fspath(out)
    if isinstance(predictions, (str, os.PathLike)):
        return _replay_file(dataset, os.fspath(predictions), out, start_over)
    import hashlib  # noqa: PLC0415
    import io  # noqa: PLC0415
    import tempfile  # noqa: PLC0415
    buf = io.StringIO()
    write_jsonl(buf, predictions)
    text = buf.getvalue().encode("utf-8")
    # Named by its content: the run's grounder description (which names the file) is the same
    # when the same data is replayed again, so that resumes instead of being refused.
    path = os.path.join(tempfile.gettempdir(),
                        f"groundeval-replay-{hashlib.sha256(text).hexdigest()[:20]}.jsonl")
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(text)
    os.replace(tmp, path)
    try:
        return _replay_file(dataset, path, out, start_over, "predictions:(Python data)")
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _replay_file(dataset, path, out, start_over, spec=None):
    identity = _identity(dataset) + [("grounder_spec", spec or "predictions:" + path)]
    session = [("command", "groundeval.replay() from Python " + sys.version.split()[0])]
    return _result(out, core().replay(dataset._h, path, out, bool(start_over), identity, session))
