"""The signed ledger on its own: appends chain, and every kind of tampering breaks the chain at the
entry it touched (SQLite here; the PostgreSQL test runs concurrent writers)."""

from __future__ import annotations

import itertools
import multiprocessing
from pathlib import Path

import pytest
import sqlalchemy as sa

from clearhouse.lineage.ledger import Ledger, head_table, ledger_table, verify_chain
from clearhouse.privacy.crypto.signing import LedgerSigner

SIGNER = LedgerSigner(bytes(range(32)))
OTHER = LedgerSigner(bytes(range(1, 33)))


def _ledger(tmp_path: Path, n: int = 5) -> Ledger:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    for i in range(n):
        ledger.append(SIGNER, "stage", dataset="ds", version="v1", payload={"stage": f"s{i}", "n": i})
    return ledger


def _verify(ledger: Ledger) -> list[str]:
    return verify_chain(ledger.entries(), SIGNER.public_key_bytes(), ledger.head()).problems


def _exec(ledger: Ledger, stmt: sa.Executable) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(stmt)


def test_appends_form_a_signed_chain(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    entries = ledger.entries()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(entries))
    report = verify_chain(entries, SIGNER.public_key_bytes(), ledger.head())
    assert report.ok and report.entries == 5 and report.head is not None and report.head.seq == 5
    assert ledger.entries(dataset="ds", version="v1")[0].payload == {"stage": "s0", "n": 0}


def test_changed_payload_is_named(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    _exec(ledger, sa.update(ledger_table).where(ledger_table.c.seq == 3).values(payload='{"stage":"s2","n":99}'))
    assert _verify(ledger) == ["entry 3 (stage ds v1): content changed after it was signed (hash mismatch)"]


def test_deleted_entry_is_named(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    _exec(ledger, sa.delete(ledger_table).where(ledger_table.c.seq == 3))
    [problem] = _verify(ledger)
    assert problem.startswith("entry 4 (stage ds v1): expected entry 3 here")


def test_deleted_last_entry_shows_at_the_head(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    _exec(ledger, sa.delete(ledger_table).where(ledger_table.c.seq == 5))
    [problem] = _verify(ledger)
    assert problem.startswith("chain head: the head records entry 5 but the last entry is 4")


def test_swapped_entries_are_named(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    rows = {r.seq: r._asdict() for r in ledger.engine.connect().execute(sa.select(ledger_table))}
    cols = [c for c in rows[3] if c != "seq"]
    _exec(ledger, sa.delete(ledger_table).where(ledger_table.c.seq.in_([3, 4])))
    _exec(ledger, sa.insert(ledger_table).values(seq=3, **{c: rows[4][c] for c in cols}))
    _exec(ledger, sa.insert(ledger_table).values(seq=4, **{c: rows[3][c] for c in cols}))
    [problem] = _verify(ledger)
    assert problem.startswith("entry 3 (stage ds v1): prev_hash does not match the hash of entry 2")


def test_entry_re_signed_with_another_key_is_named(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    forged = Ledger(f"sqlite:///{tmp_path / 'forged.db'}")
    for e in ledger.entries():  # an attacker rebuilds the chain with their own key
        forged.append(OTHER, e.kind, dataset=e.dataset, version=e.version, payload={**e.payload, "n": -1})
    [problem] = _verify(forged)
    assert problem.startswith(f"entry 1 (stage ds v1): signed with key {OTHER.key_id}, not the ledger key")
    # claiming the right key id does not help: the signature itself fails
    _exec(forged, sa.update(ledger_table).values(key_id=SIGNER.key_id))
    assert _verify(forged) == ["entry 1 (stage ds v1): signature does not verify under the ledger key"]


def test_head_row_exists_once_and_survives_restart(tmp_path: Path) -> None:
    _ledger(tmp_path, 2)
    again = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    assert again.head().seq == 2
    with again.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(head_table)).scalar() == 1


def _append_many(url: str, worker: int, n: int) -> None:
    from clearhouse.lineage import ledger as ledger_module

    ledger_module._engine.cache_clear()  # a fresh engine in the child process
    ledger = ledger_module.Ledger(url)
    for i in range(n):
        ledger.append(SIGNER, "stage", dataset="ds", version=f"w{worker}", payload={"i": i})


def _concurrent_appends(url: str, workers: int = 4, n: int = 25) -> Ledger:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(url, w, n)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    return Ledger(url)


@pytest.mark.slow
def test_concurrent_writers_keep_one_linear_chain_on_sqlite(tmp_path: Path) -> None:
    ledger = _concurrent_appends(f"sqlite:///{tmp_path / 'c.db'}")
    assert [e.seq for e in ledger.entries()] == list(range(1, 101))
    assert _verify(ledger) == []


@pytest.mark.slow
@pytest.mark.postgres
def test_concurrent_writers_keep_one_linear_chain_on_postgres(pg_url: str) -> None:
    ledger = _concurrent_appends(pg_url)
    entries = ledger.entries()
    assert [e.seq for e in entries] == list(range(1, 101))
    assert {e.version for e in entries} == {"w0", "w1", "w2", "w3"}
    assert _verify(ledger) == []
    ledger.engine.dispose()
