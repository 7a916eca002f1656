"""The governance ledger: an append-only, hash-chained, signed record of every fact about every version.

One row per fact (a run started, a stage wrote these artifacts, a version was released, approved,
pulled, decrypted, shredded, a role was granted, ...). Each entry carries the SHA-256 of the previous
entry and an Ed25519 signature over its own hash, so a changed, deleted, inserted, swapped or re-signed
entry breaks the chain at a place :func:`verify_chain` names exactly.

Entries hold facts a reviewer may read: names, counts, digests, key ids and versions — never data
values or key material. The signing key is not this module's business: callers pass a :class:`Signer`
(the privacy layer derives one from the keyring) and verifiers a public key.

Writers are serialised by a one-row head table that every append updates first, inside the same
transaction: on PostgreSQL that row lock, on SQLite the database write lock, makes two concurrent runs
append one after the other, so the chain stays linear (``prev_hash`` is also unique).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from clearhouse.errors import LineageError
from clearhouse.lineage.store import _make_engine, create_all_safely

GENESIS = "0" * 64

metadata = sa.MetaData()
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

ledger_table = sa.Table(
    "ch_ledger",
    metadata,
    sa.Column("seq", _ID, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False, index=True),
    sa.Column("dataset", sa.String(63), nullable=True, index=True),
    sa.Column("version", sa.String(64), nullable=True, index=True),
    sa.Column("actor", sa.String(200), nullable=True),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("entry_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("signature", sa.String(100), nullable=False),
)

head_table = sa.Table(
    "ch_ledger_head",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("seq", _ID, nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
)


class Signer(Protocol):
    """Signs entry hashes. ``key_id`` names the public key (its fingerprint), never the key itself."""

    @property
    def key_id(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...

    def public_key_bytes(self) -> bytes: ...


def key_fingerprint(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def canonical(value: Any) -> str:
    """The one JSON text a value hashes as (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    kind: str
    dataset: str | None
    version: str | None
    actor: str | None
    payload: dict[str, Any]
    prev_hash: str
    entry_hash: str
    key_id: str
    signature: str

    def body(self) -> dict[str, Any]:
        """What the entry hash covers (everything but the hash, key id and signature)."""
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind,
            "dataset": self.dataset,
            "version": self.version,
            "actor": self.actor,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
        }

    def computed_hash(self) -> str:
        return hashlib.sha256(canonical(self.body()).encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {**self.body(), "entry_hash": self.entry_hash, "key_id": self.key_id, "signature": self.signature}


@dataclass(frozen=True)
class ChainHead:
    seq: int
    entry_hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "entry_hash": self.entry_hash}


@dataclass
class ChainReport:
    """The outcome of walking the chain: ``ok`` or the first broken link, named exactly."""

    entries: int = 0
    head: ChainHead | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head.to_dict() if self.head else None,
            "problems": list(self.problems),
        }


@lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    engine = _make_engine(url)
    create_all_safely(metadata, engine, "ledger")
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(head_table).values(id=1, seq=0, entry_hash=GENESIS))
    except IntegrityError:
        pass  # another process (or an earlier start) created the head row
    return engine


def _row_to_entry(row: Any) -> Entry:
    return Entry(
        seq=int(row.seq),
        at=str(row.at),
        kind=str(row.kind),
        dataset=row.dataset,
        version=row.version,
        actor=row.actor,
        payload=json.loads(row.payload),
        prev_hash=str(row.prev_hash),
        entry_hash=str(row.entry_hash),
        key_id=str(row.key_id),
        signature=str(row.signature),
    )


class Ledger:
    """Append and read entries in the catalog database (SQLite or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = _engine(url)
        except SQLAlchemyError as exc:
            raise LineageError(f"ledger database unavailable ({type(exc).__name__})") from exc

    def append(
        self,
        signer: Signer,
        kind: str,
        *,
        dataset: str | None = None,
        version: str | None = None,
        actor: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Append one signed entry after the current head (serialised against other writers)."""
        body_payload = json.loads(canonical(dict(payload or {})))  # JSON-safe, as it will read back
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        try:
            with self.engine.begin() as conn:
                # Take the writers' lock first: bump the head, read what it was.
                conn.execute(sa.update(head_table).where(head_table.c.id == 1).values(seq=head_table.c.seq + 1))
                head = conn.execute(sa.select(head_table.c.seq, head_table.c.entry_hash)).one()
                seq, prev = int(head.seq), str(head.entry_hash)
                unsigned = Entry(seq, at, kind, dataset, version, actor, body_payload, prev, "", signer.key_id, "")
                entry_hash = unsigned.computed_hash()
                signature = base64.b64encode(signer.sign(entry_hash.encode("ascii"))).decode("ascii")
                entry = dataclasses.replace(unsigned, entry_hash=entry_hash, signature=signature)
                conn.execute(
                    sa.insert(ledger_table).values(
                        seq=seq,
                        at=at,
                        kind=kind,
                        dataset=dataset,
                        version=version,
                        actor=actor,
                        payload=canonical(body_payload),
                        prev_hash=prev,
                        entry_hash=entry_hash,
                        key_id=signer.key_id,
                        signature=signature,
                    )
                )
                conn.execute(sa.update(head_table).where(head_table.c.id == 1).values(entry_hash=entry_hash))
        except SQLAlchemyError as exc:
            raise LineageError(f"could not append to the ledger ({type(exc).__name__})") from exc
        return entry

    def head(self) -> ChainHead:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(head_table.c.seq, head_table.c.entry_hash)).one()
        return ChainHead(int(row.seq), str(row.entry_hash))

    def entries(self, *, dataset: str | None = None, version: str | None = None) -> list[Entry]:
        stmt = sa.select(ledger_table).order_by(ledger_table.c.seq)
        if dataset is not None:
            stmt = stmt.where(ledger_table.c.dataset == dataset)
        if version is not None:
            stmt = stmt.where(ledger_table.c.version == version)
        with self.engine.connect() as conn:
            return [_row_to_entry(r) for r in conn.execute(stmt)]


def verify_chain(entries: Iterable[Entry], public_key: bytes, head: ChainHead | None = None) -> ChainReport:
    """Walk the whole chain in order; report the first broken link (and only it, exactly).

    Checks per entry: the sequence has no gap, ``prev_hash`` is the previous entry's hash, the entry's
    content still hashes to its ``entry_hash``, and the signature verifies under ``public_key``. The
    head row must point at the last entry (a deleted last entry shows there)."""
    report = ChainReport()
    key = Ed25519PublicKey.from_public_bytes(public_key)
    expected_key_id = key_fingerprint(public_key)
    prev_hash, expected_seq = GENESIS, 1
    last: Entry | None = None
    for entry in entries:
        report.entries += 1
        where = f"entry {entry.seq} ({entry.kind}{f' {entry.dataset}' if entry.dataset else ''}"
        where += f" {entry.version})" if entry.version else ")"
        if entry.seq != expected_seq:
            report.problems.append(f"{where}: expected entry {expected_seq} here; entries are missing or reordered")
        elif entry.prev_hash != prev_hash:
            report.problems.append(f"{where}: prev_hash does not match the hash of entry {entry.seq - 1}")
        elif entry.computed_hash() != entry.entry_hash:
            report.problems.append(f"{where}: content changed after it was signed (hash mismatch)")
        elif entry.key_id != expected_key_id:
            report.problems.append(f"{where}: signed with key {entry.key_id}, not the ledger key {expected_key_id}")
        else:
            try:
                key.verify(base64.b64decode(entry.signature), entry.entry_hash.encode("ascii"))
            except (InvalidSignature, ValueError):
                report.problems.append(f"{where}: signature does not verify under the ledger key")
        if report.problems:
            return report
        prev_hash, expected_seq, last = entry.entry_hash, entry.seq + 1, entry
    report.head = ChainHead(last.seq, last.entry_hash) if last else ChainHead(0, GENESIS)
    if head is not None and (head.seq, head.entry_hash) != (report.head.seq, report.head.entry_hash):
        report.problems.append(
            f"chain head: the head records entry {head.seq} but the last entry is {report.head.seq}; "
            "entries after it were deleted or the head was changed"
        )
    return report
