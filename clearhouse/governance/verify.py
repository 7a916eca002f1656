"""Re-checking everything the ledger claims: the chain, the artifacts still on disk, the catalog.

:func:`verify` walks the whole chain (a link between two other versions matters to every version),
checks each signature, then — for the dataset or version asked about — re-hashes every artifact the
ledger recorded that is still on disk (the latest digest recorded for each path counts, since a re-run
records again) and compares each version's catalog state with the last state the ledger recorded. The
first broken link is named exactly; artifact and state problems are all listed.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearhouse.catalog import Catalog
from clearhouse.errors import ClearhouseError
from clearhouse.files import sha256_file
from clearhouse.governance.record import ledger_for, signer_for
from clearhouse.lineage.ledger import ChainReport, Entry, verify_chain
from clearhouse.settings import Settings

PUBLIC_KEY_FILE = "ledger-signing.pub"


@dataclass
class VerifyReport:
    chain: ChainReport
    key_source: str
    artifacts_checked: int = 0
    artifacts_missing: int = 0
    versions_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    def all_problems(self) -> list[str]:
        return [*self.chain.problems, *self.problems]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "chain": self.chain.to_dict(),
            "key_source": self.key_source,
            "versions_checked": self.versions_checked,
            "artifacts_checked": self.artifacts_checked,
            "artifacts_missing": self.artifacts_missing,
            "problems": self.all_problems(),
        }


def public_key(settings: Settings) -> tuple[bytes, str]:
    """The key entries must verify under: derived from the keyring when it opens (an attacker without
    the root key cannot produce it), else the public key pinned next to the keyring at ``init``."""
    try:
        return signer_for(settings).public_key_bytes(), "keyring"
    except ClearhouseError:
        pinned = settings.keys_dir / PUBLIC_KEY_FILE
        if not pinned.is_file():
            raise
        return base64.b64decode(pinned.read_text(encoding="utf-8").strip()), f"pinned {pinned.name}"


def write_public_key(settings: Settings) -> Path:
    """Pin the ledger's public key next to the keyring (``init``); idempotent."""
    path = settings.keys_dir / PUBLIC_KEY_FILE
    path.write_text(signer_for(settings).public_key_b64() + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _where(entry: Entry) -> str:
    return f"entry {entry.seq} ({entry.kind} {entry.dataset} {entry.version})"


def verify(settings: Settings, dataset: str | None = None, version: str | None = None) -> VerifyReport:
    ledger = ledger_for(settings)
    key, source = public_key(settings)
    entries = ledger.entries()
    report = VerifyReport(verify_chain(entries, key, ledger.head()), source)
    in_scope = [
        e
        for e in entries
        if e.dataset is not None
        and (dataset is None or e.dataset == dataset)
        and (version is None or e.version == version)
    ]
    # latest recorded digest of each artifact path, and who recorded it
    latest: dict[str, tuple[str, Entry]] = {}
    states: dict[tuple[str, str], tuple[str, Entry]] = {}
    for e in in_scope:
        for rel, digest in (e.payload.get("artifacts") or {}).items():
            latest[rel] = (digest, e)
        if e.version is not None and isinstance(e.payload.get("state"), str):
            states[(str(e.dataset), e.version)] = (e.payload["state"], e)
    for rel, (digest, e) in sorted(latest.items()):
        path = settings.home / rel
        if not path.is_file():
            report.artifacts_missing += 1  # removed by retention or shredding: nothing left to compare
            continue
        report.artifacts_checked += 1
        if sha256_file(path) != digest:
            report.problems.append(f"{rel}: differs from the SHA-256 recorded by {_where(e)}")
    catalog = Catalog(settings.db_url)
    known = {(v.dataset, v.version): v for v in catalog.versions(dataset)}
    for (ds, ver), (state, e) in sorted(states.items()):
        report.versions_checked += 1
        info = known.get((ds, ver))
        if info is None:
            report.problems.append(f"{ds} {ver}: in the ledger ({_where(e)}) but missing from the catalog")
        elif info.state != state:
            report.problems.append(
                f"{ds} {ver}: the catalog says {info.state!r}, the ledger's last state is {state!r} ({_where(e)})"
            )
    for (ds, ver), info in sorted(known.items()):
        if (version is None or ver == version) and (ds, ver) not in states:
            report.problems.append(f"{ds} {ver}: in the catalog ({info.state}) but the ledger has no entry for it")
    return report
