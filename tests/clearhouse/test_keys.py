from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from clearhouse.policy import parse_policy
from clearhouse.privacy.crypto.configured import provider_for
from clearhouse.privacy.crypto.protect import decrypt_table
from clearhouse.settings import Settings
from clearhouse.stages.context import RunContext
from clearhouse.stages.protect import protect_file

POLICY = """\
id: accounts
owner: o
purpose: join tickets to accounts
ethics_risk: E0
source: {path: x.parquet}
columns:
  account: {role: direct_identifier, treatment: encrypt}
  email: {role: direct_identifier, treatment: pseudonymise}
  n: {role: feature, treatment: keep}
"""


def test_protect_file_in_batches_decrypts_as_one_table(settings: Settings, tmp_path: Path) -> None:
    policy = parse_policy(POLICY)
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    accounts = [f"ACC-{i:05d}" for i in range(50)]
    pq.write_table(
        pa.table({"account": accounts, "email": [f"u{i % 7}@x.org" for i in range(50)], "n": list(range(50))}), src
    )
    ctx = RunContext(settings, tmp_path / "p.yaml", policy, "20261125T101500Z-a1b2c3", src)
    summary = protect_file(ctx, src, out, batch_rows=7)
    assert summary.rows == 50
    assert {c["column"]: c["protected"] for c in summary.columns} == {"account": 50, "email": 50}
    protected = pq.read_table(out)
    assert not set(accounts) & set(protected.column("account").to_pylist())
    assert len(set(protected.column("email").to_pylist())) == 7  # pseudonyms keep equality
    # row identity is the index in the whole version, so batch boundaries do not matter
    plain = decrypt_table(
        protected, policy, provider_for(settings), dataset="accounts", version="20261125T101500Z-a1b2c3"
    )
    assert plain.column("account").to_pylist() == accounts
