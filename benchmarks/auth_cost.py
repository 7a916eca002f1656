"""What authenticating a privileged act costs: token-id lookup plus one argon2id verification
(``clearhouse.acts.users.authenticate``), against a plain catalog read of the same user (the baseline),
and against verifying the token against every stored hash (the scan the token id avoids), with N users
in a real SQLite catalog. Also a refused token (recorded in the audit log and the signed ledger).

Figures only, measured in one run on this machine; no timing assertions.
Usage: ``python benchmarks/auth_cost.py [--users 200] [--repeat 20]``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from clearhouse.acts.users import FIRST_OFFICER_FILE, add_user, authenticate, create_first_officer
from clearhouse.catalog import Catalog
from clearhouse.errors import AuthenticationError
from clearhouse.settings import load_settings


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "state"
        key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        settings = load_settings({"CLEARHOUSE_HOME": str(home), "CLEARHOUSE_MASTER_KEY": key})
        settings.ensure_dirs()
        create_first_officer(settings)
        officer_token = (home / FIRST_OFFICER_FILE).read_text().strip()
        boss = authenticate(settings, officer_token, act="bench")
        start = time.perf_counter()
        tokens = [add_user(settings, f"user{i}", "engineer", by=boss)[1] for i in range(args.users)]
        add_s = time.perf_counter() - start
        catalog = Catalog(settings.db_url)
        hashes = [u.token_hash for u in catalog.users()]
        hasher = PasswordHasher()
        target = tokens[len(tokens) // 2]

        def scan() -> None:
            for h in hashes:
                try:
                    hasher.verify(h, target)
                    return
                except VerificationError:
                    continue

        def refused() -> None:
            with contextlib.suppress(AuthenticationError):
                authenticate(settings, target[:-4] + "AAAA", act="bench")

        baseline = median_ms(lambda: catalog.user("user1"), args.repeat)
        auth = median_ms(lambda: authenticate(settings, target, act="bench"), args.repeat)
        bad = median_ms(refused, args.repeat)
        scanned = median_ms(scan, max(1, args.repeat // 10))
        default = PasswordHasher()  # argon2-cffi's default profile, for comparison
        default_hash = default.hash(target)
        ours_verify = median_ms(lambda: hasher.verify(catalog.user("user1").token_hash, tokens[1]), args.repeat)
        default_verify = median_ms(lambda: default.verify(default_hash, target), args.repeat)
    print(f"users in catalog              {len(hashes)}")
    print(f"users add (hash + record)     {add_s / args.users * 1000:8.1f} ms per user")
    print(f"catalog read (baseline)       {baseline:8.2f} ms")
    print(f"authenticate (id + argon2id)  {auth:8.2f} ms   {auth / baseline:6.1f}x baseline")
    print(f"refused token (+ recorded)    {bad:8.2f} ms   {bad / baseline:6.1f}x baseline")
    print(f"scan-and-verify every hash    {scanned:8.2f} ms   {scanned / auth:6.1f}x authenticate")
    print(f"argon2id verify, ours         {ours_verify:8.2f} ms   (19 MiB x 2 passes x 1 lane)")
    print(f"argon2id verify, lib default  {default_verify:8.2f} ms   {default_verify / ours_verify:6.1f}x ours")


if __name__ == "__main__":
    main()
