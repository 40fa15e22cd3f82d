"""Isolated evaluation: checks run in forked worker processes with a memory limit and a kill timer.

The CEL library can segfault, panic, allocate without bound or run without end,
and a signal does not interrupt it. So each check is judged in a worker process
(``fork``: the evidence is inherited, not copied through pipes) that has an
address-space limit; the parent waits on the worker with a deadline, kills it
when the deadline passes or it dies, records an ``error`` outcome for that one
check with the reason, and starts a fresh worker for the rest of that worker's
queue. Checks are split across workers by the evidence they read, so each
evidence kind is converted into a CEL context by as few workers as possible.
A worker is sent a window of check indexes ahead (``WINDOW``), so that it never
idles waiting for the parent between checks; the time limit still runs per check,
from the moment the previous one finished.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import resource
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from .evaluate import CheckOutcome, CheckTask, Evaluator

WINDOW = 16


@dataclass(frozen=True)
class Limits:
    """Isolation limits for check evaluation."""

    workers: int = 2
    timeout_s: float = 30.0
    memory_mb: int = 4096


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _worker(conn: Connection, make: Callable[[], Evaluator], tasks: Sequence[CheckTask], memory_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit = _vm_size_bytes() + memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    evaluator = make()
    evaluator.on_load = lambda kind: conn.send(("loading", kind))
    while True:
        try:
            index = conn.recv()
        except EOFError:
            return
        if index is None:
            return
        try:
            result: CheckOutcome = evaluator.run(tasks[index])
        except MemoryError:
            result = CheckOutcome("error", f"evaluation exceeded the {memory_mb} MB memory limit")
        conn.send(("done", (index, result)))


class _Slot:
    """One worker process and the queue of task indexes it owns."""

    def __init__(self, queue: list[int]):
        self.queue = queue
        self.outstanding: list[int] = []
        self.ended = False
        self.process: Any = None
        self.conn: Connection | None = None
        self.current: int | None = None
        self.started = 0.0
        self.loading: str | None = None


def _partition(tasks: Sequence[CheckTask], weights: dict[str, int], workers: int) -> list[list[int]]:
    """Split tasks across workers, keeping tasks that read the same evidence together."""
    load = [0] * workers
    owner: dict[str, int] = {}
    queues: list[list[int]] = [[] for _ in range(workers)]
    order = sorted(range(len(tasks)), key=lambda i: -sum(weights.get(k, 0) for k in tasks[i].kinds))
    for index in order:
        kinds = tasks[index].kinds
        owned = [owner[k] for k in kinds if k in owner]
        target = max(set(owned), key=owned.count) if owned else load.index(min(load))
        for kind in kinds:
            if kind not in owner:
                owner[kind] = target
                load[target] += weights.get(kind, 0)
        load[target] += 1 + sum(weights.get(k, 0) for k in kinds) // 10
        queues[target].append(index)
    return [sorted(q) for q in queues if q]


def run_checks(
    tasks: Sequence[CheckTask],
    make_evaluator: Callable[[], Evaluator],
    weights: dict[str, int],
    limits: Limits,
) -> list[CheckOutcome]:
    """Judge every task in isolated workers; always returns one outcome per task."""
    results: list[CheckOutcome | None] = [None] * len(tasks)
    if not tasks:
        return []
    poisoned: dict[str, str] = {}
    ctx = multiprocessing.get_context("fork")
    slots = [_Slot(q) for q in _partition(tasks, weights, max(1, limits.workers))]

    def start(slot: _Slot) -> None:
        parent, child = ctx.Pipe()
        slot.process = ctx.Process(
            target=_worker, args=(child, make_evaluator, tasks, limits.memory_mb), daemon=True
        )
        slot.process.start()
        child.close()
        slot.conn = parent
        slot.ended = False
        slot.started = time.monotonic()

    def dispatch(slot: _Slot) -> None:
        """Keep the worker's window full; the first outstanding index is the current check."""
        assert slot.conn is not None
        while len(slot.outstanding) < WINDOW:
            while slot.queue and any(k in poisoned for k in tasks[slot.queue[0]].kinds):
                index = slot.queue.pop(0)
                kind = next(k for k in tasks[index].kinds if k in poisoned)
                results[index] = CheckOutcome(
                    "error", f"evidence {kind} could not be loaded for evaluation: {poisoned[kind]}")
            if not slot.queue:
                break
            index = slot.queue.pop(0)
            slot.outstanding.append(index)
            try:
                slot.conn.send(index)
            except (BrokenPipeError, ConnectionResetError):
                break  # the worker died; wait() sees its sentinel and fail_current() requeues the rest
        if not slot.queue and not slot.ended:
            slot.ended = True
            with contextlib.suppress(OSError, BrokenPipeError):
                slot.conn.send(None)
        slot.current = slot.outstanding[0] if slot.outstanding else None

    def fail_current(slot: _Slot, reason: str) -> None:
        if slot.loading is not None:  # it died converting evidence: every check of that kind would too
            poisoned[slot.loading] = reason
        if slot.current is not None:
            results[slot.current] = CheckOutcome("error", reason)
        slot.queue = slot.outstanding[1:] + slot.queue
        slot.outstanding = []
        slot.current = None
        slot.loading = None
        with contextlib.suppress(Exception):
            slot.process.kill()
        slot.process.join(5)
        if slot.conn is not None:
            slot.conn.close()
        slot.conn = None
        if slot.queue:
            start(slot)
            dispatch(slot)

    def receive(slot: _Slot) -> None:
        """Read every message the worker has sent so far (one wait() for many results)."""
        while slot.conn is not None:
            try:
                tag, payload = slot.conn.recv()
            except (EOFError, OSError):
                slot.process.join(1)  # reap it, so that the reason can name its exit code
                fail_current(slot, _death_reason(slot, limits))
                return
            if tag == "loading":
                slot.loading = payload
            else:
                index, outcome = payload
                results[index] = outcome
                slot.outstanding.remove(index)
                slot.loading = None
                slot.started = time.monotonic()
                dispatch(slot)
            if slot.current is None or not slot.conn.poll():
                return

    # Move everything alive now (the parsed evidence) out of the collector's reach, so that
    # a collection in a forked worker does not write to, and so copy, every page of it.
    gc.freeze()
    for slot in slots:
        start(slot)
        dispatch(slot)
    try:
        while any(s.current is not None for s in slots):
            active = [s for s in slots if s.current is not None]
            deadline = min(s.started for s in active) + limits.timeout_s
            waitables: list[Any] = []
            for s in active:
                waitables += [s.conn, s.process.sentinel]
            ready = wait(waitables, timeout=max(0.0, deadline - time.monotonic()))
            for slot in active:
                if slot.conn in ready:
                    receive(slot)
                elif slot.process.sentinel in ready:
                    slot.process.join(1)
                    fail_current(slot, _death_reason(slot, limits))
                elif time.monotonic() - slot.started >= limits.timeout_s:
                    fail_current(slot, f"evaluation exceeded the {limits.timeout_s:g} s time limit and was stopped")
    finally:
        gc.unfreeze()
        for slot in slots:
            if slot.process is not None and slot.process.is_alive():
                slot.process.kill()
            if slot.process is not None:
                slot.process.join(5)
    return [r if r is not None else CheckOutcome("error", "not evaluated") for r in results]


def _death_reason(slot: _Slot, limits: Limits) -> str:
    code = slot.process.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        return f"the CEL engine crashed ({name}) while evaluating this check"
    return (f"the evaluation worker stopped (exit code {code}); it may have exceeded the "
            f"{limits.memory_mb} MB memory limit")


def in_process(tasks: Sequence[CheckTask], make_evaluator: Callable[[], Evaluator]) -> list[CheckOutcome]:
    """Evaluate without isolation (only for trusted, tiny inputs such as unit tests)."""
    evaluator = make_evaluator()
    return [evaluator.run(task) for task in tasks]


__all__ = ["Limits", "in_process", "run_checks"]
