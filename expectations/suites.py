"""One GX 1.x expectation suite per dataset: generated from the policy on first use, then owned by people.

``load_or_create_suite(policy, suites_dir)`` writes ``suites_dir/<dataset_id>.json`` the first time,
from the policy's ``expectations`` list plus defaults (below); on later runs the file is loaded as it
is, so hand edits win — regenerate by deleting the file. Each expectation carries
``meta.severity`` (``critical`` fails the gate, ``warning`` is reported) and ``meta.origin``
(``default`` or ``policy``).

Defaults (a policy expectation of the same type over the same column(s) replaces the default):

* the table is not empty; every kept column exists; every dropped column is absent;
* each label column is not null (its allowed set comes from the policy's own
  ``expect_column_values_to_be_in_set``, when declared);
* ``expect_k_anonymity`` over the kept quasi-identifiers when ``policy.k_anonymity > 0``;
* ``expect_no_own_identifiers`` — *critical* over kept free-text columns: no row's text holds its own
  direct-identifier values (every row, no detector involved);
* ``expect_no_residual_pii`` — a bounded re-scan (``sample`` rows, fixed seed) with the detector,
  *critical* over kept free-text columns, *warning* over the other
  columns released readable (feature/sensitive columns kept, generalised, masked or redacted, and
  masked/redacted direct identifiers; not the row id, labels or quasi-identifiers, which k-anonymity
  covers). Pseudonymised and encrypted columns are tokens, not text, and are not re-scanned.

A file that is not valid JSON, not a suite, or names an unknown expectation type or bad arguments
raises :class:`~clearhouse.errors.ValidationGateError` naming the file and the expectation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Final, cast

import great_expectations as gx
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
from great_expectations.expectations.metadata_types import FailureSeverity

import clearhouse.validation.custom  # noqa: F401 - registers the custom expectation types with GX
from clearhouse.errors import ValidationGateError
from clearhouse.files import write_text_atomically
from clearhouse.policy import Policy, Role, Treatment
from clearhouse.validation.custom.metrics import DEFAULT_RESIDUAL_SAMPLE
from clearhouse.validation.outcome import Severity

logger = logging.getLogger(__name__)

SEVERITIES: Final = ("critical", "warning")
#: kwargs naming the column(s) an expectation looks at, in the order they are shown
COLUMN_KWARGS: Final = (
    "column",
    "column_A",
    "column_B",
    "column_list",
    "quasi_identifiers",
    "sensitive_column",
    "group_column",
    "label_column",
)
_TOP_LEVEL: Final = ("meta", "notes", "description")
#: rows the detector re-scans in the gate (also for a policy's own ``expect_no_residual_pii`` that does
#: not say; ``sample: 0`` asks for every row)
RESIDUAL_SAMPLE: Final = DEFAULT_RESIDUAL_SAMPLE
#: treatments after which a value is still readable text worth re-scanning
_READABLE: Final = {Treatment.KEEP, Treatment.GENERALISE, Treatment.MASK, Treatment.REDACT}
_MASKING: Final = {Treatment.MASK, Treatment.REDACT}


def suite_path(dataset_id: str, suites_dir: Path) -> Path:
    """Where the suite of ``dataset_id`` lives."""
    return Path(suites_dir) / f"{dataset_id}.json"


def columns_of(kwargs: dict[str, Any]) -> list[str]:
    """The column names an expectation's kwargs refer to (deduplicated, in display order)."""
    out: list[str] = []
    for key in COLUMN_KWARGS:
        value = kwargs.get(key)
        for name in [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []:
            if isinstance(name, str) and name not in out:
                out.append(name)
    return out


def severity_of(expectation: dict[str, Any]) -> Severity:
    """``meta.severity`` of a suite entry (GX's own ``severity`` as fallback; default critical)."""
    meta = expectation.get("meta") or {}
    value = meta.get("severity", expectation.get("severity", "critical"))
    return "warning" if value in ("warning", "info") else "critical"


# ------------------------------------------------------------------------------------------ generate


def _entry(etype: str, kwargs: dict[str, Any], severity: Severity, origin: str) -> dict[str, Any]:
    return {"type": etype, "kwargs": kwargs, "meta": {"severity": severity, "origin": origin}}


def _key(entry: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    return entry["type"], tuple(sorted(columns_of(entry["kwargs"])))


def _policy_entries(policy: Policy) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for exp in policy.expectations:
        kwargs = exp.kwargs()
        top: dict[str, Any] = {k: kwargs.pop(k) for k in _TOP_LEVEL if k in kwargs}
        if exp.type == "expect_no_residual_pii" and kwargs.get("sample") is None:
            kwargs["sample"] = RESIDUAL_SAMPLE  # written out, so whoever reads the suite sees the bound
        entry = _entry(exp.type, kwargs, exp.severity, "policy")
        entry["meta"] = {**(top.pop("meta", None) or {}), **entry["meta"]}
        entries.append({**entry, **top})
    return entries


def _residual_columns(policy: Policy) -> tuple[list[str], list[str]]:
    critical, warning = [], []
    for name, col in policy.columns.items():
        if col.treatment is Treatment.DROP or name == policy.row_id:
            continue
        readable_feature = col.role in (Role.FEATURE, Role.SENSITIVE) and col.treatment in _READABLE
        masked_identifier = col.role is Role.DIRECT_IDENTIFIER and col.treatment in _MASKING
        if col.role is Role.FREE_TEXT:
            critical.append(name)
        elif readable_feature or masked_identifier:
            warning.append(name)
    return critical, warning


def _default_entries(policy: Policy) -> list[dict[str, Any]]:
    kept = policy.kept_columns()
    dropped = policy.columns_with(treatment=Treatment.DROP)
    entries = [_entry("expect_table_row_count_to_be_between", {"min_value": 1}, "critical", "default")]
    entries += [_entry("expect_column_to_exist", {"column": c}, "critical", "default") for c in kept]
    if dropped:
        entries.append(
            _entry("expect_columns_to_be_absent", {"column_list": dropped}, "critical", "default")
        )
    entries += [
        _entry("expect_column_values_to_not_be_null", {"column": label}, "critical", "default")
        for label in policy.columns_with(role=Role.LABEL)
    ]
    qis = [c for c in policy.columns_with(role=Role.QUASI_IDENTIFIER) if c in kept]
    if policy.k_anonymity > 0 and qis:
        kwargs: dict[str, Any] = {"quasi_identifiers": qis, "k": policy.k_anonymity}
        entries.append(_entry("expect_k_anonymity", kwargs, "critical", "default"))
    critical, warning = _residual_columns(policy)
    free_text = [c for c in critical if policy.columns[c].role is Role.FREE_TEXT]
    if free_text and [c for c in policy.columns_with(role=Role.DIRECT_IDENTIFIER) if c != policy.row_id]:
        entries.append(_entry("expect_no_own_identifiers", {"column_list": free_text}, "critical", "default"))
    threshold = policy.detection.threshold
    for columns, severity in ((critical, "critical"), (warning, "warning")):
        if columns:
            scan: dict[str, Any] = {"column_list": columns, "threshold": threshold, "sample": RESIDUAL_SAMPLE}
            entries.append(_entry("expect_no_residual_pii", scan, cast(Severity, severity), "default"))
    return entries


def _digest(entries: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest()


def generate_suite(policy: Policy) -> dict[str, Any]:
    """The suite JSON document for ``policy`` (defaults + the policy's own expectations)."""
    declared = _policy_entries(policy)
    taken = {_key(e) for e in declared}
    entries = [e for e in _default_entries(policy) if _key(e) not in taken] + declared
    return {
        "name": policy.id,
        "expectations": entries,
        "meta": {
            "great_expectations_version": gx.__version__,
            "clearhouse": {
                "dataset": policy.id,
                "generated_from": "policy",
                #: digest of the generated expectations, to notice a policy that changed since
                "policy_digest": _digest(entries),
                "note": "Generated on first run. Edit freely: an edited file wins over the policy's "
                "expectations list (a run refuses to guess if both change). Delete it to regenerate. "
                "meta.severity is critical or warning.",
            },
        },
        "notes": None,
    }


# -------------------------------------------------------------------------------------------- load


def _fail(origin: str, message: str) -> ValidationGateError:
    return ValidationGateError(f"{origin}: {message}")


def check_suite_document(data: Any, origin: str) -> dict[str, Any]:
    """Structural checks of a suite document (no GX); returns it typed as a dict."""
    if not isinstance(data, dict):
        raise _fail(origin, "a suite must be a JSON object with an 'expectations' list")
    exps = data.get("expectations")
    if not isinstance(exps, list) or not exps:
        raise _fail(origin, "'expectations' must be a non-empty list (an empty suite would pass anything)")
    for i, exp in enumerate(exps):
        where = f"expectations[{i}]"
        if not isinstance(exp, dict):
            raise _fail(origin, f"{where} must be an object with 'type' and 'kwargs'")
        etype = exp.get("type") or exp.get("expectation_type")
        if not isinstance(etype, str) or not etype:
            raise _fail(origin, f"{where}: missing 'type'")
        if not isinstance(exp.get("kwargs", {}), dict):
            raise _fail(origin, f"{where} ({etype}): 'kwargs' must be an object")
        meta = exp.get("meta") or {}
        if not isinstance(meta, dict):
            raise _fail(origin, f"{where} ({etype}): 'meta' must be an object")
        severity = meta.get("severity", "critical")
        if severity not in SEVERITIES:
            raise _fail(
                origin, f"{where} ({etype}): meta.severity must be critical or warning, got {severity!r}"
            )
    return data


def read_suite(path: Path) -> dict[str, Any]:
    """Read and structurally check a suite file. Raises :class:`ValidationGateError` naming it."""
    origin = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise _fail(origin, "suite file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(origin, f"cannot read suite: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(origin, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    return check_suite_document(data, origin)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:400]


def build_suite(data: dict[str, Any], name: str, origin: str) -> ExpectationSuite:
    """A GX :class:`ExpectationSuite` from a checked document; GX's own ``severity`` follows meta.severity.

    Every entry is turned into its GX expectation here, so an unknown type or a bad argument fails
    now, naming the entry — GX itself would silently drop some invalid entries.
    """
    check_suite_document(data, origin)
    built = []
    for i, exp in enumerate(data["expectations"]):
        etype = exp.get("type") or exp.get("expectation_type")
        try:
            config = ExpectationConfiguration(
                type=etype,
                kwargs=dict(exp.get("kwargs") or {}),
                meta=dict(exp.get("meta") or {}),
                notes=exp.get("notes"),
                description=exp.get("description"),
                severity=FailureSeverity(severity_of(exp)),
            )
            built.append(config.to_domain_obj())
        except Exception as exc:  # GX raises several unrelated types here
            raise _fail(origin, f"expectations[{i}] ({etype}): {_one_line(exc)}") from exc
    suite = ExpectationSuite(name=name, expectations=built, meta=dict(data.get("meta") or {}))
    if len(suite.expectations) != len(built):  # fail closed if GX dropped anything
        raise _fail(origin, "Great Expectations rejected some expectations of the suite")
    return suite


def load_suite(path: Path, name: str | None = None) -> ExpectationSuite:
    """Read, check and build the suite at ``path`` (named ``name`` or the file's stem)."""
    return build_suite(read_suite(path), name or Path(path).stem, os.fspath(path))


def load_or_create_suite(policy: Policy, suites_dir: Path) -> Path:
    """Path of the dataset's suite, generating it from ``policy`` on first use (hand-edited files win).

    The file — new or existing — is checked through GX before returning, so a broken suite fails
    here, naming the file, instead of mid-run.
    """
    path = suite_path(policy.id, suites_dir)
    generated = generate_suite(policy)
    new_digest = generated["meta"]["clearhouse"]["policy_digest"]
    if path.exists():
        document = read_suite(path)
        recorded = ((document.get("meta") or {}).get("clearhouse") or {}).get("policy_digest")
        edited = recorded is not None and _digest(list(document.get("expectations") or [])) != recorded
        if recorded and recorded != new_digest:
            if edited:
                # Both sides changed: guessing which wins could silently drop a gate, so fail closed.
                raise ValidationGateError(
                    f"{os.fspath(path)}: the suite was edited by hand and the policy's expectations changed "
                    "since it was generated; reconcile them (delete the file to regenerate from the policy, "
                    f"or set meta.clearhouse.policy_digest to {new_digest} to keep the file as it is)"
                )
            logger.info("%s: regenerating the unedited suite from the changed policy", path)
            path.unlink()
    if not path.exists():
        build_suite(generated, policy.id, f"policy {policy.id!r} (generating {os.fspath(path)})")
        write_text_atomically(path, json.dumps(generated, indent=2, ensure_ascii=False) + "\n", mode=0o644)
    document = read_suite(path)
    build_suite(document, policy.id, os.fspath(path))
    return path

