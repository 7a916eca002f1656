"""Whole-table metrics of a version computed in one streamed pass, for the gate to run GX over a sample.

Loading a released table into pandas makes the gate's memory grow with the rows. Instead,
:func:`profile_files` reads the released file (and, in step, the ingested one: row order is kept by
every stage) in record batches and keeps only aggregates: row and null counts, group counts merged
over batches (:class:`~clearhouse.privacy.risk.JointCounts`: label balance, group representation,
k-anonymity classes, l-diversity, parity), exact duplicate counts (spilled to disk past a bound), the
rows' own-identifier leak counts, the rows the residual-PII re-scan samples (the same rows
``DataFrame.sample(n, random_state=0)`` picks) and the first ``sample_rows`` rows.

GX then runs the suite over those first rows, and every metric a verdict depends on is answered from
the aggregates (:meth:`StreamedTable.metric`, plugged into GX's metric resolution by the gate). A
metric that cannot be answered from the aggregates fails the gate (fail closed) unless the sample is
the whole table — on small inputs GX sees every row and the verdicts are the in-memory path's.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from clearhouse.errors import ValidationGateError
from clearhouse.privacy.leaks import LeakReport, own_identifier_leaks
from clearhouse.privacy.risk import (
    DuplicateCounter,
    JointCounts,
    distribution_of,
    k_anonymity_of,
    l_diversity_of,
    parity_of,
)
from clearhouse.readers import open_parquet
from clearhouse.validation.custom.metrics import (
    DISTRIBUTION,
    K_ANONYMITY,
    L_DIVERSITY,
    OWN_IDENTIFIERS,
    PARITY,
    RESIDUAL_PII,
    residual_sample,
    scan_residual_pii,
)

#: rows of the released table GX itself sees (the Data Docs' batch); every verdict comes from aggregates
SAMPLE_ROWS: Final = 1_000
#: rows read per step of the pass
BATCH_ROWS: Final = 50_000
#: expectation types whose metrics the pass answers for the whole table
STREAMED_TYPES: Final = frozenset({
    "expect_table_row_count_to_be_between",
    "expect_column_to_exist",
    "expect_columns_to_be_absent",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_unique",
    "expect_column_label_balance",
    "expect_column_group_representation",
    "expect_label_parity_across_groups",
    "expect_k_anonymity",
    "expect_l_diversity",
    "expect_no_residual_pii",
    "expect_no_own_identifiers",
})
#: metrics GX may compute on the sample: the schema, and the value lists the safe result format drops
_SAMPLE_SAFE: Final = frozenset({"table.columns", "table.column_types"})
_SAMPLE_SAFE_SUFFIXES: Final = (
    ".condition", ".unexpected_index_list", ".unexpected_index_query", ".unexpected_values", ".unexpected_rows",
    ".unexpected_value_counts",
)
MISSING: Final = object()


def aligned_batches(path: Path, columns: Sequence[str], size: int = BATCH_ROWS) -> Iterator[pa.Table]:
    """``columns`` of a Parquet file in tables of exactly ``size`` rows (the last may be shorter), so
    that two files with the same row order can be read in step whatever their row groups."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in open_parquet(path).iter_batches(batch_size=size, columns=list(columns)):
        pending.append(batch)
        held += batch.num_rows
        while held >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending, schema=pending[0].schema)


def _key(columns: Sequence[str]) -> tuple[str, ...]:
    return tuple(columns)


def _texts(series: pd.Series) -> list[str | None]:
    return [None if pd.isna(v) else str(v) for v in series.tolist()]


#: up to this many rows the re-scan samples pandas' rows (its sampler permutes every row position)
PANDAS_SAMPLE_ROWS: Final = 1_000_000


def residual_sample_positions(rows: int, sample: int) -> Any:
    """Row positions the residual-PII re-scan reads, sorted; every row when the table is not larger.

    Up to :data:`PANDAS_SAMPLE_ROWS` rows they are the rows ``DataFrame.sample(n=sample, random_state=0)``
    picks (what the in-memory check scans); above, a fixed-seed sample drawn in memory proportional to
    the sample, not to the rows (pandas' sampler holds a permutation of every row position)."""
    if sample <= 0 or rows <= sample:
        return pd.RangeIndex(rows).to_numpy()
    if rows > PANDAS_SAMPLE_ROWS:
        picked = random.Random(0).sample(range(rows), sample)  # noqa: S311 - a fixed-seed sample, not a secret
        return pd.Series(sorted(picked)).to_numpy()
    # pandas' own sampling (the in-memory check's ``DataFrame.sample``), so the rows are the same
    return pd.Series(pd.RangeIndex(rows)).sample(n=sample, random_state=0).sort_values().to_numpy()


@dataclass
class StreamedTable:
    """Aggregates of one released table (and its ingested input), answering GX metric requests."""

    rows: int
    columns: list[str]
    sample: pd.DataFrame
    nulls: dict[str, int] = field(default_factory=dict)
    counts: dict[tuple[str, ...], JointCounts] = field(default_factory=dict)
    raw_counts: dict[str, JointCounts] = field(default_factory=dict)
    raw_rows: int | None = None
    duplicates: dict[str, int] = field(default_factory=dict)
    leaks: dict[tuple[str, ...], dict[str, Any]] = field(default_factory=dict)
    residual_rows: dict[int, pd.DataFrame] = field(default_factory=dict)

    @property
    def complete_sample(self) -> bool:
        """Whether GX's sample is the whole table (then any metric GX computes is exact)."""
        return len(self.sample) >= self.rows

    def distribution(self, column: str) -> Any:
        return distribution_of(self.counts[(column,)])

    def group_distinct(self, column: str) -> int | None:
        """Distinct non-null values of ``column`` (``None`` when it has more than the counting cap)."""
        counts = self.counts.get((column,))
        if counts is None or counts.overflowed:
            return None
        return sum(1 for (v,) in counts.counts if v is not None)

    def metric(self, name: str, domain: dict[str, Any], value: dict[str, Any]) -> Any:
        """The whole-table value of a GX metric, or :data:`MISSING` when the pass did not compute it."""
        answer = _ANSWERS.get(name)
        if answer is None or domain.get("row_condition") or domain.get("filter_conditions"):
            return MISSING
        try:
            return answer(self, domain.get("column"), value)
        except KeyError:
            return MISSING

    def _in_set(self, column: str, value: dict[str, Any]) -> int:
        return self._set_unexpected(column, value.get("value_set"), inside=False)

    def _not_in_set(self, column: str, value: dict[str, Any]) -> int:
        return self._set_unexpected(column, value.get("value_set"), inside=True)

    def _l_diversity(self, value: dict[str, Any]) -> Any:
        qis, sensitive = list(value["quasi_identifiers"]), value["sensitive_column"]
        return l_diversity_of(self.counts[_key(qis if sensitive in qis else [*qis, sensitive])], qis, sensitive)

    def _parity(self, value: dict[str, Any]) -> Any:
        group, label = value["group_column"], value["label_column"]
        counts = self.counts[_key([group] if group == label else [group, label])]
        return parity_of(counts, value["favourable_label"], min_group_size=int(value.get("min_group_size") or 1))

    def _set_unexpected(self, column: str, value_set: Any, *, inside: bool) -> int:
        if value_set is None:
            return 0
        counts = self.counts[(column,)]
        keys = [k for (k,) in counts.counts if k is not None]
        if not keys:
            return 0
        member = pd.Series(keys, dtype=object).isin(value_set).tolist()
        return sum(counts.counts[(k,)] for k, m in zip(keys, member, strict=True) if m == inside)

    def _residual(self, columns: list[str], threshold: float, sample: int) -> dict[str, Any]:
        rows = self.residual_rows[sample]
        result = scan_residual_pii(rows, columns, threshold=threshold, sample=0)
        if result.get("detector"):
            result["rows_in_table"] = self.rows
        return result

    def _residual_metric(self, value: dict[str, Any]) -> dict[str, Any]:
        return self._residual(list(value["column_list"]), float(value["threshold"]), int(value["sample"] or 0))

    def answers(self, name: str) -> bool:
        """Whether GX may compute ``name`` on the sample (it feeds no verdict, or the sample is everything)."""
        return self.complete_sample or name in _SAMPLE_SAFE or name.endswith(_SAMPLE_SAFE_SUFFIXES)


#: GX metric name → its whole-table value from the aggregates (table, column, value kwargs)
_ANSWERS: Final[dict[str, Callable[[StreamedTable, Any, dict[str, Any]], Any]]] = {
    "table.row_count": lambda t, _c, _v: t.rows,
    "column_values.nonnull.unexpected_count": lambda t, c, _v: t.nulls[c],
    "column_values.in_set.unexpected_count": lambda t, c, v: t._in_set(c, v),
    "column_values.not_in_set.unexpected_count": lambda t, c, v: t._not_in_set(c, v),
    "column_values.unique.unexpected_count": lambda t, c, _v: t.duplicates[c],
    DISTRIBUTION: lambda t, c, _v: t.distribution(c),
    K_ANONYMITY: lambda t, _c, v: k_anonymity_of(t.counts[_key(v["quasi_identifiers"])]),
    L_DIVERSITY: lambda t, _c, v: t._l_diversity(v),
    PARITY: lambda t, _c, v: t._parity(v),
    OWN_IDENTIFIERS: lambda t, _c, v: t.leaks[_key(v["column_list"])],
    RESIDUAL_PII: lambda t, _c, v: t._residual_metric(v),
}


# ------------------------------------------------------------------------------------------ the pass


@dataclass
class Plan:
    """What the pass must keep, read from the suite's expectations and the policy."""

    counts: dict[tuple[str, ...], int | None] = field(default_factory=dict)
    unique: set[str] = field(default_factory=set)
    own_identifiers: list[tuple[str, ...]] = field(default_factory=list)
    residual: dict[int, set[str]] = field(default_factory=dict)
    raw_counts: dict[str, int | None] = field(default_factory=dict)
    identifiers: list[str] = field(default_factory=list)

    def count(self, columns: Sequence[str], cap: int | None = None) -> None:
        """Keep the counts over ``columns`` (with ``cap``; an uncapped request wins)."""
        key = _key(columns)
        self.counts[key] = None if key in self.counts and self.counts[key] is None else cap


def plan_for(document: dict[str, Any], rows: int, *, group_candidates: Sequence[str], labels: Sequence[str],
             max_groups: int, raw_groups: Sequence[str], identifiers: Sequence[str],
             sample_rows: int = SAMPLE_ROWS) -> Plan:
    """The aggregates the suite ``document`` needs; fails closed on an expectation the pass cannot
    answer when the table is larger than GX's sample."""
    plan = Plan(identifiers=list(identifiers))
    unsupported = sorted({
        str(e.get("type")) for e in document["expectations"] if e.get("type") not in STREAMED_TYPES
    })
    if unsupported and rows > sample_rows:
        raise ValidationGateError(
            f"the suite uses {', '.join(unsupported)}, which the gate cannot evaluate over a streamed table of "
            f"{rows} rows (supported: {', '.join(sorted(STREAMED_TYPES))}); fail closed"
        )
    for exp in document["expectations"]:
        etype, kw = exp.get("type"), exp.get("kwargs") or {}
        if etype in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
                     "expect_column_label_balance", "expect_column_group_representation"):
            plan.count([kw["column"]])
        elif etype == "expect_column_values_to_be_unique":
            plan.unique.add(kw["column"])
        elif etype == "expect_k_anonymity":
            plan.count(kw["quasi_identifiers"])
        elif etype == "expect_l_diversity":
            qis, s = list(kw["quasi_identifiers"]), kw["sensitive_column"]
            plan.count(qis if s in qis else [*qis, s])
        elif etype == "expect_label_parity_across_groups":
            g, lab = kw["group_column"], kw["label_column"]
            plan.count([g] if g == lab else [g, lab])
        elif etype == "expect_no_own_identifiers":
            plan.own_identifiers.append(_key(kw["column_list"]))
        elif etype == "expect_no_residual_pii":
            plan.residual.setdefault(residual_sample(kw.get("sample")), set()).update(kw["column_list"])
    for label in labels:
        plan.count([label])
        plan.raw_counts[label] = None
    for column in group_candidates:
        # one more than max_groups keeps room for the null key
        plan.count([column], max_groups + 1)
    for column in raw_groups:
        plan.raw_counts.setdefault(column, max_groups + 1)
    return plan


def _null_count(column: pa.ChunkedArray) -> int:
    if pa.types.is_floating(column.type):  # pandas (and so GX) takes NaN for missing
        return int(pc.sum(pc.is_null(column, nan_is_null=True)).as_py() or 0)
    return int(column.null_count)


class _Pass:
    """The state of one pass: the aggregates a :class:`Plan` asks for, fed batch by batch."""

    def __init__(self, cleared: Path, plan: Plan, raw: Path | None, work_dir: Path | None, sample_rows: int) -> None:
        pf = pq.ParquetFile(cleared)
        rows = pf.metadata.num_rows
        names = list(pf.schema_arrow.names)
        self.plan, self.sample_rows, self.offset = plan, sample_rows, 0
        self.present = set(names)
        self.table = StreamedTable(rows=rows, columns=names, sample=pd.DataFrame(columns=names))
        self.table.nulls = dict.fromkeys(names, 0)
        self.table.counts = {k: JointCounts(k, cap=cap) for k, cap in plan.counts.items() if set(k) <= self.present}
        self.dups = {c: DuplicateCounter(rows, work_dir=work_dir) for c in plan.unique if c in self.present}
        self.positions = {n: residual_sample_positions(rows, n) for n in plan.residual}
        self.picked: dict[int, list[pd.DataFrame]] = {n: [] for n in plan.residual}
        self.sample_parts: list[pa.Table] = []
        raw_pf = pq.ParquetFile(raw) if raw is not None else None
        raw_names = set(raw_pf.schema_arrow.names) if raw_pf is not None else set()
        self.table.raw_rows = raw_pf.metadata.num_rows if raw_pf is not None else None
        self.ids = [c for c in plan.identifiers if c in raw_names]
        self.table.raw_counts = {
            c: JointCounts((c,), cap=cap) for c, cap in plan.raw_counts.items() if c in raw_names
        }
        self.raw_columns = sorted(set(self.ids) | set(self.table.raw_counts))
        self.reports = {k: LeakReport() for k in plan.own_identifiers}
        self.leak_ok = bool(self.ids) and self.table.raw_rows == rows

    def add(self, batch: pa.Table) -> None:
        t, n = self.table, batch.num_rows
        for c in t.columns:
            t.nulls[c] += _null_count(batch.column(c))
        for k, counter in t.counts.items():
            counter.add(batch.select(list(k)))
        for c, dup in self.dups.items():
            dup.add(batch.column(c))
        taken = sum(p.num_rows for p in self.sample_parts)
        if taken < self.sample_rows:
            self.sample_parts.append(batch.slice(0, self.sample_rows - taken))
        for size, pos in self.positions.items():
            lo, hi = pos.searchsorted([self.offset, self.offset + n])
            if hi > lo:
                cols = sorted(self.plan.residual[size] & self.present)
                frame = batch.select(cols).take(pa.array(pos[lo:hi] - self.offset)).to_pandas()
                frame.index = pd.Index(pos[lo:hi])
                self.picked[size].append(frame)
        self.offset += n

    def add_raw(self, raw_batch: pa.Table, batch: pa.Table | None) -> None:
        for c, counter in self.table.raw_counts.items():
            counter.add(raw_batch.select([c]))
        if batch is not None and self.leak_ok and self.reports:
            reference = raw_batch.select(self.ids).to_pylist()
            for key, report in self.reports.items():
                texts = {c: _texts(batch.column(c).to_pandas()) for c in key if c in self.present}
                _merge(report, own_identifier_leaks(reference, texts))

    def finish(self) -> StreamedTable:
        t = self.table
        if self.sample_parts:
            t.sample = pa.concat_tables(self.sample_parts).to_pandas()
        t.duplicates = {c: d.finish()[1] for c, d in self.dups.items()}
        t.residual_rows = {
            size: pd.concat(parts) if parts else pd.DataFrame(columns=sorted(self.plan.residual[size] & self.present))
            for size, parts in self.picked.items()
        }
        for key, report in self.reports.items():
            if result := _leak_result(key, report, self.present, ids=self.ids, raw_rows=t.raw_rows, rows=t.rows):
                t.leaks[key] = result
        return t


def profile_files(cleared: Path, plan: Plan, *, raw: Path | None, work_dir: Path | None = None,
                  sample_rows: int = SAMPLE_ROWS, batch_rows: int = BATCH_ROWS) -> StreamedTable:
    """One pass over ``cleared`` (and ``raw`` in step) computing what ``plan`` asks for."""
    state = _Pass(cleared, plan, raw, work_dir, sample_rows)
    raw_iter = aligned_batches(raw, state.raw_columns, batch_rows) if raw is not None and state.raw_columns else None
    for batch in aligned_batches(cleared, state.table.columns, batch_rows):
        state.add(batch)
        raw_batch = next(raw_iter, None) if raw_iter is not None else None
        if raw_batch is not None:
            state.add_raw(raw_batch, batch)
    for raw_batch in raw_iter or ():  # the input may be longer than the release: count the rest of it
        state.add_raw(raw_batch, None)
    return state.finish()


def _merge(total: LeakReport, part: LeakReport) -> None:
    total.rows_checked += part.rows_checked
    total.values_checked += part.values_checked
    total.rows_with_leaks += part.rows_with_leaks
    for kind, n in part.by_kind.items():
        total.by_kind[kind] = total.by_kind.get(kind, 0) + n
    for column, n in part.by_column.items():
        total.by_column[column] = total.by_column.get(column, 0) + n


def _leak_result(key: tuple[str, ...], report: LeakReport, present: set[str], *, ids: list[str],
                 raw_rows: int | None, rows: int) -> dict[str, Any] | None:
    """What :func:`~clearhouse.validation.custom.metrics.scan_own_identifiers` returns, from the pass
    (``None`` where it raises: a column missing from the table; the gate then fails closed)."""
    if not ids:
        return {"reference": False, "why": "no identifier values were provided"}
    if raw_rows != rows:
        return {"reference": False, "why": f"{raw_rows} input rows for {rows} released rows"}
    missing = [c for c in key if c not in present]
    if missing:
        return None
    return {"reference": True, **report.to_dict()}


def describe_plan(plan: Plan) -> str:
    """A short summary (logs): which aggregates the pass keeps."""
    return json.dumps({"counts": [list(k) for k in plan.counts], "unique": sorted(plan.unique),
                       "residual_samples": sorted(plan.residual)})
