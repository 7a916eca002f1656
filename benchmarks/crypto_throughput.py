"""Field-encryption throughput: Clearhouse's AEAD field encryption vs Presidio's ``encrypt`` operator.

Encrypts the same N synthetic e-mail-like strings (generated here, no personal data) with:

* Clearhouse AES-256-GCM per field, associated data bound to dataset/column/row (``GcmColumnCipher``)
* Clearhouse AES-SIV-512, deterministic for joinable columns (``SivColumnCipher``)
* Clearhouse HMAC-SHA256 pseudonyms (``Pseudonymiser``)
* Clearhouse ``protect_table`` end to end over an Arrow column (GCM, keys from a real local keyring)
* Presidio ``Encrypt`` operator (AES-CBC, no authentication), called directly
* Presidio ``AnonymizerEngine`` with ``OperatorConfig("encrypt", {"key": ...})``, one span per value

all in one process, and prints values/s and the ratio to Presidio's operator. Figures only; no timing
assertions. Usage: ``python benchmarks/crypto_throughput.py [--n 50000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import string
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from clearhouse.policy import Policy
from clearhouse.privacy.crypto import (
    GcmColumnCipher,
    LocalKeyringProvider,
    Pseudonymiser,
    SivColumnCipher,
    decrypt_column,
    protect_table,
)


def synthetic_emails(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    domains = ["example.com", "example.org", "mail.example.net", "corp.example"]
    letters = string.ascii_lowercase
    return [
        f"{''.join(rng.choices(letters, k=rng.randint(4, 10)))}.{''.join(rng.choices(letters, k=6))}"
        f"{rng.randint(1, 999)}@{rng.choice(domains)}"
        for _ in range(n)
    ]


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """Best wall time of ``repeat`` runs (least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="values per run (default 50000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; the best is reported")
    args = parser.parse_args(argv)
    values = synthetic_emails(args.n)
    rows = [f"idx:{i}" for i in range(args.n)]

    with tempfile.TemporaryDirectory() as tmp:
        env = {"CLEARHOUSE_MASTER_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode()}
        provider = LocalKeyringProvider(Path(tmp) / "keys", env=env)
        data_key = provider.create_data_key("bench", "v1")
        gcm = GcmColumnCipher(data_key, dataset="bench", column="email")
        siv = SivColumnCipher(data_key, dataset="bench", column="email")
        pseudo = Pseudonymiser(provider.purpose_key("bench"))
        policy = Policy.model_validate(
            {
                "id": "bench",
                "owner": "bench",
                "purpose": "throughput benchmark only",
                "ethics_risk": "E0",
                "source": {"path": "bench.csv"},
                "columns": {"email": {"role": "direct_identifier", "treatment": "encrypt"}},
            }
        )
        table = pa.table({"email": values})
        protected, _ = protect_table(table, policy, provider, dataset="bench", version="v1")
        gcm_tokens = [gcm.encrypt(v, r) for v, r in zip(values, rows, strict=True)]

        methods: dict[str, Callable[[], object]] = {
            "clearhouse AES-256-GCM + AAD (encrypt)": lambda: [
                gcm.encrypt(v, r) for v, r in zip(values, rows, strict=True)
            ],
            "clearhouse AES-256-GCM + AAD (decrypt)": lambda: [
                gcm.decrypt(t, r) for t, r in zip(gcm_tokens, rows, strict=True)
            ],
            "clearhouse AES-SIV-512 (deterministic)": lambda: [siv.encrypt(v, "") for v in values],
            "clearhouse HMAC-SHA256 pseudonyms": lambda: [pseudo.pseudonym(v) for v in values],
            "clearhouse protect_table (GCM, Arrow in/out)": lambda: protect_table(
                table, policy, provider, dataset="bench", version="v1"
            ),
            "clearhouse decrypt_column (GCM, Arrow in/out)": lambda: decrypt_column(
                protected, policy, provider, dataset="bench", version="v1", column="email"
            ),
        }

        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig, RecognizerResult
        from presidio_anonymizer.operators import Encrypt

        presidio_key = base64.urlsafe_b64encode(os.urandom(24)).decode()  # 32 characters = AES-256
        operator, params = Encrypt(), {"key": presidio_key}
        operator.validate(params)
        engine = AnonymizerEngine()
        configs = {"DEFAULT": OperatorConfig("encrypt", {"key": presidio_key})}

        def presidio_engine() -> list[str]:
            return [
                engine.anonymize(
                    text=v,
                    analyzer_results=[RecognizerResult("EMAIL_ADDRESS", 0, len(v), 1.0)],
                    operators=configs,
                ).text
                for v in values
            ]

        baseline_name = "presidio Encrypt operator (AES-CBC)"
        methods[baseline_name] = lambda: [operator.operate(v, params) for v in values]
        methods["presidio AnonymizerEngine encrypt (AES-CBC)"] = presidio_engine

        print(f"crypto throughput: n={args.n} values, best of {args.repeat}, python {sys.version.split()[0]}")
        rates = {name: args.n / best_of(args.repeat, fn) for name, fn in methods.items()}
    width = max(map(len, rates))
    baseline = rates[baseline_name]
    print(f"{'method':<{width}}  {'values/s':>12}  {'vs presidio Encrypt':>20}")
    for name, rate in rates.items():
        print(f"{name:<{width}}  {rate:>12,.0f}  {rate / baseline:>19.2f}x")


if __name__ == "__main__":
    main()
