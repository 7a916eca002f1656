"""Re-identification risk and representativeness metrics over a table (pure: no Great Expectations).

Every function takes a :class:`pandas.DataFrame` or a :class:`pyarrow.Table` and returns a small frozen
result object of *aggregates only*: class sizes, counts, shares and ratios. No result carries a cell
value of an identifier column. Group and label names (e.g. ``"female"``, ``"billing"``) do appear as
keys of share/rate dictionaries: they are category names, not personal data, and the callers decide
which columns are summarised that way.

Null handling, the same everywhere:

* **k-anonymity / l-diversity** — a null quasi-identifier is a value of its own: rows with a null in the
  same quasi-identifier positions (and equal other values) form one equivalence class. Nulls are not
  wildcards, so they never *raise* k.
* **l-diversity** — null *sensitive* values do not count towards diversity (a class whose sensitive
  values are ``{"flu", null}`` has l = 1; a class of only nulls has l = 0). This is the conservative
  reading: an unknown value does not protect anyone.
* **balance / representation** — shares are taken over the non-null values; the number of nulls is
  reported separately as ``null_count``.
* **parity** — rows whose group or label is null are left out of the rates and counted in
  ``excluded_rows``.

Values are compared by their string form (``str(value)``), so a label ``1`` and a favourable label
``"1"`` match, and dictionary keys are JSON-safe strings.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

#: a table the metrics accept
TableLike: TypeAlias = pd.DataFrame | pa.Table

__all__ = [
    "Distribution",
    "KAnonymityResult",
    "LDiversityResult",
    "ParityResult",
    "TableLike",
    "balance",
    "k_anonymity",
    "l_diversity",
    "l_diversity_profile",
    "parity",
    "representation",
]


# ------------------------------------------------------------------------------------------- helpers


def _frame(table: TableLike, columns: Sequence[str]) -> pd.DataFrame:
    """The named columns as a DataFrame; a missing column raises :class:`ValueError` naming it."""
    names = list(table.column_names) if isinstance(table, pa.Table) else [str(c) for c in table.columns]
    missing = [c for c in columns if c not in names]
    if missing:
        raise ValueError(f"column(s) not in the table: {', '.join(repr(c) for c in missing)}")
    if isinstance(table, pa.Table):
        return table.select(list(columns)).to_pandas()
    return table.loc[:, list(columns)]


def _as_key(value: Any) -> str:
    return str(value)


def _round(value: float) -> float:
    return round(float(value), 6)


def _class_sizes(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> pd.Series:
    """Size of each equivalence class; nulls form their own class (``dropna=False``)."""
    return df.groupby(list(quasi_identifiers), dropna=False, observed=True, sort=False).size()


# ------------------------------------------------------------------------------------- k-anonymity


@dataclass(frozen=True)
class KAnonymityResult:
    """Equivalence-class statistics over the quasi-identifiers.

    ``k`` is the size of the smallest class (0 for an empty table). ``size_histogram`` maps a class
    size to the number of classes of that size — enough to answer "how many rows/classes are below
    k_target" for any target without keeping the classes themselves.
    """

    quasi_identifiers: tuple[str, ...]
    n_rows: int
    n_classes: int
    k: int
    size_histogram: Mapping[int, int] = field(default_factory=dict)

    @property
    def smallest_class_size(self) -> int:
        """Alias of ``k``."""
        return self.k

    def classes_below(self, k_target: int) -> int:
        """Number of equivalence classes with fewer than ``k_target`` rows."""
        return sum(n for size, n in self.size_histogram.items() if size < k_target)

    def rows_in_classes_below(self, k_target: int) -> int:
        """Number of rows that sit in a class with fewer than ``k_target`` rows (the rows at risk)."""
        return sum(size * n for size, n in self.size_histogram.items() if size < k_target)

    def to_dict(self, k_target: int | None = None) -> dict[str, Any]:
        """JSON-safe summary; with ``k_target``, also the classes/rows below it."""
        out: dict[str, Any] = {
            "quasi_identifiers": list(self.quasi_identifiers),
            "k": self.k,
            "n_rows": self.n_rows,
            "n_classes": self.n_classes,
        }
        if k_target is not None:
            out["k_target"] = k_target
            out["classes_below_k"] = self.classes_below(k_target)
            out["rows_in_classes_below_k"] = self.rows_in_classes_below(k_target)
        return out


def k_anonymity(table: TableLike, quasi_identifiers: Sequence[str]) -> KAnonymityResult:
    """k-anonymity of ``table`` over ``quasi_identifiers`` (nulls form their own class).

    With no quasi-identifiers every row is in one class, so k is the row count.
    """
    qis = tuple(quasi_identifiers)
    if not qis:
        n = table.num_rows if isinstance(table, pa.Table) else len(table)
        return KAnonymityResult((), n, 1 if n else 0, n, {n: 1} if n else {})
    df = _frame(table, qis)
    if df.empty:
        return KAnonymityResult(qis, 0, 0, 0, {})
    sizes = _class_sizes(df, qis)
    histogram = {int(size): int(n) for size, n in sizes.value_counts().items()}
    return KAnonymityResult(qis, len(df), len(sizes), int(sizes.min()), dict(sorted(histogram.items())))


# ------------------------------------------------------------------------------------- l-diversity


@dataclass(frozen=True)
class LDiversityResult:
    """Distinct l-diversity: ``l`` is the smallest number of distinct non-null sensitive values in a class."""

    quasi_identifiers: tuple[str, ...]
    sensitive: str
    n_classes: int
    l: int  # noqa: E741 - the name the l-diversity literature uses
    #: distinct-sensitive-value count → number of classes with that count
    diversity_histogram: Mapping[int, int] = field(default_factory=dict)

    def classes_below(self, l_target: int) -> int:
        """Number of equivalence classes with fewer than ``l_target`` distinct sensitive values."""
        return sum(n for div, n in self.diversity_histogram.items() if div < l_target)

    def to_dict(self, l_target: int | None = None) -> dict[str, Any]:
        """JSON-safe summary; with ``l_target``, also the number of classes below it."""
        out: dict[str, Any] = {
            "quasi_identifiers": list(self.quasi_identifiers),
            "sensitive": self.sensitive,
            "l": self.l,
            "n_classes": self.n_classes,
        }
        if l_target is not None:
            out["l_target"] = l_target
            out["classes_below_l"] = self.classes_below(l_target)
        return out


def l_diversity_profile(
    table: TableLike, quasi_identifiers: Sequence[str], sensitive: str
) -> LDiversityResult:
    """Distinct l-diversity with per-class detail (see module docstring for nulls)."""
    qis = tuple(quasi_identifiers)
    df = _frame(table, (*qis, sensitive) if sensitive not in qis else qis)
    if df.empty:
        return LDiversityResult(qis, sensitive, 0, 0, {})
    if qis:
        diversity = df.groupby(list(qis), dropna=False, observed=True, sort=False)[sensitive].nunique(
            dropna=True
        )
    else:
        diversity = pd.Series([df[sensitive].nunique(dropna=True)])
    histogram = {int(div): int(n) for div, n in diversity.value_counts().items()}
    return LDiversityResult(
        qis, sensitive, len(diversity), int(diversity.min()), dict(sorted(histogram.items()))
    )


def l_diversity(table: TableLike, quasi_identifiers: Sequence[str], sensitive: str) -> int:
    """Distinct l-diversity of ``sensitive`` within the quasi-identifier classes (0 for an empty table)."""
    return l_diversity_profile(table, quasi_identifiers, sensitive).l


# --------------------------------------------------------------------- balance and representation


@dataclass(frozen=True)
class Distribution:
    """Counts and shares of the values of one categorical column (nulls counted apart)."""

    column: str
    n_rows: int
    null_count: int
    counts: Mapping[str, int]
    shares: Mapping[str, float]

    @property
    def max_min_ratio(self) -> float | None:
        """Largest share divided by the smallest (1.0 for one value, ``None`` without values)."""
        if not self.counts:
            return None
        return _round(max(self.counts.values()) / min(self.counts.values()))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {
            "column": self.column,
            "n_rows": self.n_rows,
            "null_count": self.null_count,
            "counts": dict(self.counts),
            "shares": dict(self.shares),
            "max_min_ratio": self.max_min_ratio,
        }


def _distribution(table: TableLike, column: str) -> Distribution:
    series = _frame(table, [column])[column]
    non_null = series.dropna()
    counts: dict[str, int] = {}
    for value, n in non_null.map(_as_key).value_counts(sort=False).items():
        counts[str(value)] = counts.get(str(value), 0) + int(n)
    total = sum(counts.values())
    ordered = dict(sorted(counts.items()))
    shares = {k: _round(v / total) for k, v in ordered.items()} if total else {}
    return Distribution(column, len(series), len(series) - len(non_null), ordered, shares)


def balance(table: TableLike, label: str) -> Distribution:
    """Class balance of the ``label`` column: shares per label and the max/min share ratio."""
    return _distribution(table, label)


def representation(table: TableLike, group_col: str) -> Distribution:
    """Representation of each group of ``group_col``: its share of the rows with a known group."""
    return _distribution(table, group_col)


# ------------------------------------------------------------------------------------------ parity


@dataclass(frozen=True)
class ParityResult:
    """Favourable-outcome rate per group, with the disparate-impact ratio and statistical parity difference.

    ``disparate_impact`` is min rate / max rate (1.0 when every rate is 0 — all groups equally without
    favourable outcomes); ``statistical_parity_difference`` is max rate - min rate (≥ 0). Both are
    ``None`` when no group has rows.
    """

    group_column: str
    label_column: str
    favourable: str
    rates: Mapping[str, float]
    counts: Mapping[str, int]
    excluded_rows: int
    disparate_impact: float | None
    statistical_parity_difference: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {
            "group_column": self.group_column,
            "label_column": self.label_column,
            "favourable": self.favourable,
            "rates": dict(self.rates),
            "counts": dict(self.counts),
            "excluded_rows": self.excluded_rows,
            "disparate_impact": self.disparate_impact,
            "statistical_parity_difference": self.statistical_parity_difference,
        }


def parity(
    table: TableLike, group_col: str, label_col: str, favourable: Any, *, min_group_size: int = 1
) -> ParityResult:
    """Favourable-label rate per group of ``group_col`` and the gaps between groups.

    Groups with fewer than ``min_group_size`` rows (after excluding nulls) are left out of the ratio
    and difference (their rate is still reported) — a rate over three rows is noise, not bias.
    """
    cols = [group_col] if group_col == label_col else [group_col, label_col]
    df = _frame(table, cols).dropna()
    excluded = (table.num_rows if isinstance(table, pa.Table) else len(table)) - len(df)
    fav = _as_key(favourable)
    groups = df[group_col].map(_as_key)
    hits = df[label_col].map(_as_key) == fav
    per_group = pd.DataFrame({"group": groups, "hit": hits}).groupby("group", sort=False)["hit"]
    counts = {str(g): int(n) for g, n in per_group.size().items()}
    favourable_counts = {str(g): int(n) for g, n in per_group.sum().items()}
    return _parity_result(group_col, label_col, fav, sizes=counts, hits=favourable_counts, excluded=excluded,
                          min_group_size=min_group_size)


def _parity_result(
    group_col: str,
    label_col: str,
    fav: Any,
    *,
    sizes: dict[str, int],
    hits: dict[str, int],
    excluded: int,
    min_group_size: int,
) -> ParityResult:
    """Rates, disparate impact and parity difference from per-group row and favourable-label counts
    (shared by the in-memory and the streamed path, so both judge alike)."""
    ordered = sorted(sizes)
    rates = {g: _round(hits[g] / sizes[g]) for g in ordered}
    considered = [rates[g] for g in ordered if sizes[g] >= min_group_size]
    di: float | None = None
    spd: float | None = None
    if considered:
        hi, lo = max(considered), min(considered)
        di = _round(lo / hi) if hi > 0 else 1.0
        spd = _round(hi - lo)
    return ParityResult(group_col, label_col, fav, rates, {g: sizes[g] for g in ordered}, excluded, di, spd)


# ------------------------------------------------------------------------------ streamed aggregates
#
# The same metrics over a table read in record batches: each batch adds its group counts to a
# :class:`JointCounts`, and the results are computed from the merged counts, so memory grows with the
# number of distinct groups (classes, labels), never with the rows. A null (None or NaN) is one key,
# ``None``, as pandas' ``groupby(dropna=False)`` treats it.

Key: TypeAlias = tuple[Any, ...]


def _null_to_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


class JointCounts:
    """Row counts per distinct combination of ``columns``' values, merged over batches.

    With ``cap``, counting stops (``overflowed``) once more than ``cap`` distinct keys were seen: a
    column with many values is not a group column, and its counts would grow with the rows."""

    def __init__(self, columns: Sequence[str], *, cap: int | None = None) -> None:
        self.columns = tuple(columns)
        self.cap = cap
        self.rows = 0
        self.counts: dict[Key, int] = {}
        self.overflowed = False

    def add(self, table: TableLike) -> None:
        """Count one batch (a DataFrame or an Arrow table/batch holding ``columns``)."""
        n = table.num_rows if isinstance(table, pa.Table | pa.RecordBatch) else len(table)
        self.rows += n
        if self.overflowed or n == 0:
            return
        source = pa.Table.from_batches([table]) if isinstance(table, pa.RecordBatch) else table
        df = _frame(source, self.columns)
        sizes = df.groupby(list(self.columns), dropna=False, observed=True, sort=False).size()
        counts = self.counts
        for key, size in sizes.items():
            norm = tuple(_null_to_none(v) for v in (key if isinstance(key, tuple) else (key,)))
            counts[norm] = counts.get(norm, 0) + int(size)
        if self.cap is not None and len(counts) > self.cap:
            self.overflowed = True
            self.counts = {}

    @property
    def distinct(self) -> int | None:
        """Distinct keys seen (``None`` once overflowed)."""
        return None if self.overflowed else len(self.counts)


def k_anonymity_of(counts: JointCounts) -> KAnonymityResult:
    """:func:`k_anonymity` from class counts over the quasi-identifiers."""
    qis = counts.columns
    if not counts.rows:
        return KAnonymityResult(qis, 0, 0, 0, {})
    histogram: dict[int, int] = {}
    for size in counts.counts.values():
        histogram[size] = histogram.get(size, 0) + 1
    return KAnonymityResult(
        qis, counts.rows, len(counts.counts), min(counts.counts.values()), dict(sorted(histogram.items()))
    )


def l_diversity_of(counts: JointCounts, quasi_identifiers: Sequence[str], sensitive: str) -> LDiversityResult:
    """:func:`l_diversity_profile` from counts over the quasi-identifiers plus the sensitive column."""
    qis = tuple(quasi_identifiers)
    if not counts.rows:
        return LDiversityResult(qis, sensitive, 0, 0, {})
    at = [counts.columns.index(c) for c in qis]
    s_at = counts.columns.index(sensitive)
    values: dict[Key, set[Any]] = {}
    for key in counts.counts:
        seen = values.setdefault(tuple(key[i] for i in at), set())
        if key[s_at] is not None:
            seen.add(key[s_at])
    histogram: dict[int, int] = {}
    for seen in values.values():
        histogram[len(seen)] = histogram.get(len(seen), 0) + 1
    return LDiversityResult(qis, sensitive, len(values), min(histogram), dict(sorted(histogram.items())))


def distribution_of(counts: JointCounts) -> Distribution:
    """:func:`balance` / :func:`representation` from the value counts of one column."""
    (column,) = counts.columns
    by_key: dict[str, int] = {}
    nulls = 0
    for (value,), n in counts.counts.items():
        if value is None:
            nulls += n
        else:
            by_key[_as_key(value)] = by_key.get(_as_key(value), 0) + n
    total = sum(by_key.values())
    ordered = dict(sorted(by_key.items()))
    shares = {k: _round(v / total) for k, v in ordered.items()} if total else {}
    return Distribution(column, counts.rows, nulls, ordered, shares)


def parity_of(counts: JointCounts, favourable: Any, *, min_group_size: int = 1) -> ParityResult:
    """:func:`parity` from the joint counts of (group column, label column)."""
    group_col, label_col = counts.columns[0], counts.columns[-1]
    fav = _as_key(favourable)
    sizes: dict[str, int] = {}
    hits: dict[str, int] = {}
    excluded = 0
    for key, n in counts.counts.items():
        group, label = key[0], key[-1]
        if group is None or label is None:
            excluded += n
            continue
        g = _as_key(group)
        sizes[g] = sizes.get(g, 0) + n
        hits[g] = hits.get(g, 0) + (n if _as_key(label) == fav else 0)
    return _parity_result(group_col, label_col, fav, sizes=sizes, hits=hits, excluded=excluded,
                          min_group_size=min_group_size)


class DuplicateCounter:
    """Exact count of the non-null values of a column that occur more than once, in bounded memory.

    Values up to ``bucket_rows`` are counted in memory; a column expected to hold more is hashed into
    ``ceil(expected_rows / bucket_rows)`` spill files in ``work_dir`` (a private temporary folder), each
    counted on its own at :meth:`finish`, so memory follows ``bucket_rows``, not the rows. ``duplicated``
    counts every occurrence of a repeated value (pandas' ``duplicated(keep=False)``: what GX's
    ``expect_column_values_to_be_unique`` reports as unexpected)."""

    def __init__(self, expected_rows: int, *, work_dir: Path | None = None, bucket_rows: int = 200_000) -> None:
        self.buckets = max(1, -(-expected_rows // bucket_rows))
        self.rows = 0
        self.nulls = 0
        self._memory: list[pa.Array] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._writers: list[pq.ParquetWriter] = []
        if self.buckets > 1:
            self._tmp = tempfile.TemporaryDirectory(prefix="dup-", dir=work_dir)

    def add(self, values: pa.Array | pa.ChunkedArray) -> None:
        """Count one batch of the column."""
        self.rows += len(values)
        self.nulls += values.null_count
        present = pc.drop_null(values)
        if isinstance(present, pa.ChunkedArray):
            present = present.combine_chunks()
        if self.buckets == 1:
            self._memory.append(present)
            return
        assert self._tmp is not None
        if not self._writers:
            schema = pa.schema([("v", present.type)])
            self._writers = [pq.ParquetWriter(Path(self._tmp.name) / f"{i}.parquet", schema)
                             for i in range(self.buckets)]
        bucket = pa.array([hash(v) % self.buckets for v in present.to_pylist()], type=pa.int32())
        for i, writer in enumerate(self._writers):
            part = present.filter(pc.equal(bucket, i))
            if len(part):
                writer.write_table(pa.table({"v": part}))

    @staticmethod
    def _repeated(values: pa.Array | pa.ChunkedArray) -> tuple[int, int]:
        if not len(values):
            return 0, 0
        vc = pc.value_counts(values)
        counts = vc.field("counts")
        repeated = pc.filter(counts, pc.greater(counts, 1))
        return len(vc), int(pc.sum(repeated).as_py() or 0)

    def finish(self) -> tuple[int, int]:
        """(distinct non-null values, rows holding a repeated value); removes the spill files."""
        try:
            if self.buckets == 1:
                if not self._memory:
                    return 0, 0
                return self._repeated(pa.chunked_array(self._memory))
            distinct = duplicated = 0
            for writer in self._writers:
                writer.close()
            for i in range(len(self._writers)):
                d, r = self._repeated(pq.read_table(Path(self._tmp.name) / f"{i}.parquet").column("v"))  # type: ignore[union-attr]
                distinct += d
                duplicated += r
            return distinct, duplicated
        finally:
            self._memory = []
            if self._tmp is not None:
                self._tmp.cleanup()
