"""Evaluating one check against the evidence, inside a worker process.

Each check is tried first on the fast path (:mod:`.fast`): plain Python over
the evidence as loaded, with no CEL context at all; an ``each`` check's rule is
judged record by record in Python and its offenders collected there too. The fast
path answers exactly as CEL would or raises ``Fallback``; then, and for expressions
outside its subset, the check is evaluated with CEL as before: an :class:`Evaluator`
holds one CEL context per worker, each evidence kind is converted into it once, on
first use, and shared by every check that reads it; ``params`` (and ``r`` when
hunting offenders) are swapped in per check. CEL looks for offenders only when a
check fails: records are judged in chunks with one CEL call each, and one by one
only inside a failing chunk. Either way the outcome is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress, islice
from operator import not_
from typing import Any

from .cel import MAX_COMPREHENSION_DEPTH, MAX_EXPR_CHARS, MAX_NESTING, CelCompileError, compile_expr, make_context
from .celguard import structure as cel_guard
from .fast import Columns, Fallback, FastExpr, FastRule, compile_fast, compile_rule, plain
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
    rule: str | None = None
    """An ``each`` check's verdict on one record ``r`` (:attr:`auditkit.catalog.models.Check.rule`)."""
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
        self.as_of = as_of
        self.period = {"start": period[0], "end": period[1]}
        self._context: Any = None
        self.loaded: set[str] = set()
        self.programs: dict[str, Any] = {}
        self.values: dict[str, dict[str, Any] | None] = {}
        self.plain: dict[str, bool] = {}
        self.plain_params: dict[int, tuple[dict[str, Any], bool]] = {}
        self.fast: dict[str, FastExpr | None] = {}
        self.rules: dict[str, FastRule | None] = {}
        self.columns = Columns()

    @property
    def context(self) -> Any:
        """The worker's CEL context, made on first use (the fast path needs none)."""
        if self._context is None:
            self._context = make_context({"as_of": self.as_of, "period": self.period})
        return self._context

    def program(self, source: str) -> Any:
        if source not in self.programs:
            self.programs[source] = compile_expr(source).program
        return self.programs[source]

    def value(self, kind: str) -> dict[str, Any] | None:
        """``{documents, records, latest}`` of ``kind`` as plain Python, built once per worker."""
        if kind not in self.values:
            self.values[kind] = self.evidence.cel_value(kind)
        return self.values[kind]

    def _ensure(self, kinds: tuple[str, ...]) -> None:
        for kind in kinds:
            if kind not in self.loaded:
                if self.on_load is not None:
                    self.on_load(kind)
                value = self.value(kind)
                if value is not None:
                    self.context.add_variable(kind.replace("-", "_"), value)
                self.loaded.add(kind)
                if self.on_load is not None:
                    self.on_load(None)

    def run(self, task: CheckTask) -> CheckOutcome:
        """Judge ``task``: on the fast path when it can be sure, else with CEL."""
        outcome = self._run_fast(task)
        return outcome if outcome is not None else self._run_cel(task)

    # -------------------------------------------------------------------- fast path

    def _fast(self, source: str) -> FastExpr | None:
        if source not in self.fast:
            self.fast[source] = compile_fast(source)
        return self.fast[source]

    def _env(self, task: CheckTask) -> dict[str, Any] | None:
        """The variables a check sees, as plain Python; None if CEL would see them otherwise."""
        known = self.plain_params.get(id(task.params))
        if known is None or known[0] is not task.params:  # the checks of a control share one dict
            known = self.plain_params[id(task.params)] = (task.params, plain(task.params))
        if not known[1]:
            return None
        env: dict[str, Any] = {"as_of": self.as_of, "period": self.period, "params": task.params}
        for kind in task.kinds:
            value = self.value(kind)
            if value is None:
                continue
            if kind not in self.plain:  # records and latest are made of the documents' content
                sound = [d for d in self.evidence.of_kind(kind) if d.ok]
                self.plain[kind] = plain([{**d.as_cel(), "content": None} for d in sound]) and all(
                    d.plain_content or plain(d.content) for d in sound)
            if not self.plain[kind]:
                return None
            env[kind.replace("-", "_")] = value
        return env

    def _run_fast(self, task: CheckTask) -> CheckOutcome | None:
        if not _cel_accepts(task.combined):
            return None
        if task.each and task.rule:
            each = self._fast(task.each)
            if task.rule not in self.rules:
                self.rules[task.rule] = compile_rule(task.rule)
            rule = self.rules[task.rule]
            if each is None or rule is None:
                return None
            env = self._env(task)
            if env is None:
                return None
            judged = _judge_each(each, rule, env, self.columns)
            if judged is None:
                return None
            outcome, complete = judged
            if not complete:
                self._cel_offenders(task, outcome)
            return outcome
        expr = self._fast(task.combined)
        if expr is None:
            return None
        env = self._env(task)
        if env is None:
            return None
        try:
            verdict = expr.test(env)
        except Fallback:
            return None
        if verdict:
            return CheckOutcome("pass")
        outcome = CheckOutcome("fail")
        if task.offenders:
            listing = self._fast(task.offenders)
            try:
                if listing is None:
                    raise Fallback("offenders outside the fast subset")
                found = listing.value(env)
            except Fallback:
                self._cel_offenders(task, outcome)
            else:
                if isinstance(found, list):
                    outcome.offenders = found[:MAX_OFFENDERS]
                    outcome.offender_count = len(found)
        return outcome

    # -------------------------------------------------------------------- CEL

    def _run_cel(self, task: CheckTask) -> CheckOutcome:
        try:
            self._ensure(task.kinds)
            self.context.add_variable("params", task.params)
            value = self.program(task.combined).execute(self.context)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - CEL raises PanicException, a BaseException
            return CheckOutcome("error", f"could not evaluate: {short(exc)}")
        if not isinstance(value, bool):
            shown = short(ValueError(repr(value)))
            return CheckOutcome("error", f"expression gave {type(value).__name__} {shown}, not true/false")
        judged = self._size(task.each) if task.each else None
        if value:
            return CheckOutcome("pass", records_judged=judged)
        outcome = CheckOutcome("fail", records_judged=judged)
        self._cel_offenders(task, outcome)
        return outcome

    def _cel_offenders(self, task: CheckTask, outcome: CheckOutcome) -> None:
        outcome.offenders = []
        outcome.offender_count = 0
        try:
            self._ensure(task.kinds)
            self.context.add_variable("params", task.params)
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

    def _size(self, each: str) -> int | None:
        try:
            size = self.program(f"size({each})").execute(self.context)
        except BaseException:  # noqa: BLE001
            return None
        return int(size) if isinstance(size, int) else None

    def _each_offenders(self, task: CheckTask, outcome: CheckOutcome) -> None:
        records = self.program(task.each or "null").execute(self.context)
        if not isinstance(records, list):
            return
        rule = task.rule or "true"
        chunk_rule = self.program(f"auditkit_chunk.all(r, {rule})")
        record_rule = self.program(rule)
        for start in range(0, len(records), CHUNK):
            chunk = records[start : start + CHUNK]
            self.context.add_variable("auditkit_chunk", chunk)
            try:
                whole = chunk_rule.execute(self.context) is True
            except BaseException:  # noqa: BLE001 - judge record by record below
                whole = False
            if whole:
                continue
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


def _cel_accepts(source: str) -> bool:
    """Whether CEL's load-time guards accept ``source`` (the combined ``each`` form may not)."""
    if (len(source) <= MAX_EXPR_CHARS and source.count("(") + source.count("[") + source.count("{") <= MAX_NESTING
            and source.count("all") + source.count("exists") <= MAX_COMPREHENSION_DEPTH):
        return True  # cannot be too long or nested too deep: skip the scan
    try:
        cel_guard(source)
    except CelCompileError:
        return False
    return True


def _judge_each(each: FastExpr, rule: FastRule, env: dict[str, Any], columns: Columns
                ) -> tuple[CheckOutcome, bool] | None:
    """``each.all(r, rule)`` in Python, and whether its offenders are complete; None when CEL must decide.

    Like CEL's ``all``, the verdict is the first record that is not true: false fails
    the check, anything else (an error, a non-bool) is CEL's to report. Offenders are
    then every record whose rule is not true, as CEL's own hunt finds them; a record
    the fast path is unsure of leaves the hunt to CEL. All records are judged at once
    over columns when that is certain, else one by one."""
    try:
        records = each.value(env)
    except Fallback:
        return None
    if type(records) is not list:
        return None
    verdicts = rule.judge_all(env, records, columns)
    if verdicts is not None:
        outcome = CheckOutcome("pass" if all(verdicts) else "fail", records_judged=len(records))
        if outcome.outcome == "fail":
            outcome.offenders = list(islice(compress(records, map(not_, verdicts)), MAX_OFFENDERS))
            outcome.offender_count = verdicts.count(False)
        return outcome, True
    judge = rule.record.fn
    first_false = -1
    try:
        for index, record in enumerate(records):
            env["r"] = record
            verdict = judge(env)
            if verdict is not True:
                if verdict is False:
                    first_false = index
                    break
                return None
    except Exception:  # noqa: BLE001 - any doubt: CEL decides
        return None
    if first_false < 0:
        return CheckOutcome("pass", records_judged=len(records)), True
    outcome = CheckOutcome("fail", records_judged=len(records))
    offenders = [records[first_false]]
    count = 1
    try:
        for record in records[first_false + 1 :]:
            env["r"] = record
            verdict = judge(env)
            if verdict is not True:
                if verdict is not False:
                    raise Fallback("rule is not a bool")
                count += 1
                if len(offenders) < MAX_OFFENDERS:
                    offenders.append(record)
    except Exception:  # noqa: BLE001 - CEL might still judge this record true
        return outcome, False
    outcome.offenders = offenders
    outcome.offender_count = count
    return outcome, True
