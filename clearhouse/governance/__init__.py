"""Verifiable governance: every fact about a version goes into the signed ledger
(:mod:`clearhouse.lineage.ledger`) through :mod:`~clearhouse.governance.record`; :mod:`~.verify`
re-checks the chain, the artifacts still on disk and the catalog against it; :mod:`~.trace` follows a
cleared row back to the collected file, the policy, the code and the keys."""
