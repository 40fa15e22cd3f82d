"""Evaluating one check against the evidence, inside a worker process.

An :class:`Evaluator` holds one CEL context per worker: each evidence kind is
converted into it once, on first use, and shared by every check that reads it;
``params`` (and ``r`` when hunting offenders) are swapped in per check. Offenders
are looked for only when a check fails: records are judged in chunks with one CEL
call each, and one by one only inside a failing chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .cel import compile_expr, make_context
from .inputs import EvidenceSet

MAX_OFFENDERS = 50
CHUNK = 512
MAX_REASON = 300


@dataclass(frozen=True)
class CheckTask:
    """Everything a worker needs to judge one check."""

    check_id: str
    control_id: str
    kinds: tuple[str, ...]
    params: dict[str, Any]
    combined: str
    each: str | None = None
    where: str | None = None
    assert_: str | None = None
    offenders: str | None = None


@dataclass
class CheckOutcome:
    outcome: str
    reason: str | None = None
    records_judged: int | None = None
    offenders: list[Any] = field(default_factory=list)
    offender_count: int = 0


def short(exc: BaseException) -> str:
    """A bounded one-line reason from an engine exception (never the whole context)."""
    text = " ".join(str(exc).split())
    if not text:
        text = type(exc).__name__
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


class Evaluator:
    """Evaluates checks against one evidence set; lives in a worker process.

    ``on_load(kind)`` is told before an evidence kind is converted into the CEL context
    and ``on_load(None)`` after, so that the parent can blame a crash on the evidence."""

    def __init__(self, evidence: EvidenceSet, as_of: str, period: tuple[str, str],
                 on_load: Callable[[str | None], None] | None = None):
        self.evidence = evidence
        self.on_load = on_load
        self.context = make_context({"as_of": as_of, "period": {"start": period[0], "end": period[1]}})
        self.loaded: set[str] = set()
        self.programs: dict[str, Any] = {}

    def program(self, source: str) -> Any:
        if source not in self.programs:
            self.programs[source] = compile_expr(source).program
        return self.programs[source]

    def _ensure(self, kinds: tuple[str, ...]) -> None:
        for kind in kinds:
            if kind not in self.loaded:
                if self.on_load is not None:
                    self.on_load(kind)
                value = self.evidence.cel_value(kind)
                if value is not None:
                    self.context.add_variable(kind.replace("-", "_"), value)
                self.loaded.add(kind)
                if self.on_load is not None:
                    self.on_load(None)

    def run(self, task: CheckTask) -> CheckOutcome:
        try:
            self._ensure(task.kinds)
            self.context.add_variable("params", task.params)
            value = self.program(task.combined).execute(self.context)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - CEL raises PanicException, a BaseException
            return CheckOutcome("error", f"could not evaluate: {short(exc)}")
        if not isinstance(value, bool):
            return CheckOutcome("error", f"expression gave {type(value).__name__} {short(ValueError(repr(value)))}, not true/false")
        judged = self._size(task.each) if task.each else None
        if value:
            return CheckOutcome("pass", records_judged=judged)
        outcome = CheckOutcome("fail", records_judged=judged)
        try:
            if task.each:
                self._each_offenders(task, outcome)
            elif task.offenders:
                found = self.program(task.offenders).execute(self.context)
                if isinstance(found, list):
                    outcome.offenders = found[:MAX_OFFENDERS]
                    outcome.offender_count = len(found)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001
            outcome.reason = f"offenders could not be listed: {short(exc)}"
        return outcome

    def _size(self, each: str) -> int | None:
        try:
            size = self.program(f"size({each})").execute(self.context)
        except BaseException:  # noqa: BLE001
            return None
        return int(size) if isinstance(size, int) else None

    def _each_offenders(self, task: CheckTask, outcome: CheckOutcome) -> None:
        records = self.program(task.each).execute(self.context)
        if not isinstance(records, list):
            return
        rule = f"!({task.where or 'true'}) || ({task.assert_})"
        chunk_rule = self.program(f"auditkit_chunk.all(r, {rule})")
        record_rule = self.program(rule)
        for start in range(0, len(records), CHUNK):
            chunk = records[start : start + CHUNK]
            self.context.add_variable("auditkit_chunk", chunk)
            try:
                if chunk_rule.execute(self.context) is True:
                    continue
            except BaseException:  # noqa: BLE001 - judge record by record below
                pass
            for record in chunk:
                self.context.add_variable("r", record)
                try:
                    good = record_rule.execute(self.context) is True
                except BaseException:  # noqa: BLE001 - a record the rule cannot judge offends
                    good = False
                if not good:
                    outcome.offender_count += 1
                    if len(outcome.offenders) < MAX_OFFENDERS:
                        outcome.offenders.append(record)
        self.context.add_variable("auditkit_chunk", [])
