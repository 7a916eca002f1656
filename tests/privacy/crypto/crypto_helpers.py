"""Helpers shared by the crypto tests (a module with a unique name: test dirs have no ``__init__``)."""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

from clearhouse.errors import KeyringError
from clearhouse.policy import Policy
from clearhouse.privacy.crypto import (
    DataKey,
    DataKeyInfo,
    KekInfo,
    KeyProvider,
    KeyringStatus,
    PurposeKey,
    PurposeKeyInfo,
    RotationResult,
    ShredResult,
)


def new_master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def fresh_key(key_id: str = "dk_test", *, dataset: str = "patients", version: str = "v1") -> DataKey:
    return DataKey(key_id=key_id, dataset=dataset, version=version, kek_version=1, raw=os.urandom(32))


class MemoryKeyProvider(KeyProvider):
    """In-memory fake provider (no wrapping; versions are counters). Good enough for the table stage."""

    name = "memory"

    def __init__(self) -> None:
        self.kek = 1
        self.data: dict[tuple[str, str], tuple[str, bytes, str | None]] = {}
        self.purpose: dict[str, tuple[str, bytes]] = {}

    def create_data_key(self, dataset: str, version: str) -> DataKey:
        if (dataset, version) not in self.data:
            self.data[(dataset, version)] = (f"dk_{secrets.token_hex(4)}", os.urandom(32), None)
        return self.get_data_key(dataset, version)

    def get_data_key(self, dataset: str, version: str) -> DataKey:
        if (dataset, version) not in self.data:
            raise KeyringError(f"no data key for dataset {dataset!r} version {version!r}")
        key_id, raw, shredded = self.data[(dataset, version)]
        if shredded:
            raise KeyringError(f"data key {key_id} was shredded")
        return DataKey(key_id=key_id, dataset=dataset, version=version, kek_version=self.kek, raw=raw)

    def purpose_key(self, scope: str) -> PurposeKey:
        key_id, raw = self.purpose.setdefault(scope, (f"pk_{secrets.token_hex(4)}", os.urandom(32)))
        return PurposeKey(key_id=key_id, scope=scope, kek_version=self.kek, raw=raw)

    def rotate_kek(self, *, rewrap: bool = True) -> RotationResult:
        self.kek += 1
        return RotationResult(self.kek - 1, self.kek, len(self.data), len(self.purpose))

    def rewrap(self, *, from_version: int | None = None) -> RotationResult:
        return RotationResult(self.kek, self.kek, 0, 0)

    def retire_kek(self, version: int) -> None:
        if version == self.kek:
            raise KeyringError("current KEK")

    def shred(self, dataset: str, version: str | None = None) -> ShredResult:
        infos = []
        for (ds, ver), (key_id, _raw, _) in list(self.data.items()):
            if ds == dataset and (version is None or ver == version):
                self.data[(ds, ver)] = (key_id, b"", "now")
                infos.append(DataKeyInfo(key_id, ds, ver, self.kek, "t", "now"))
        return ShredResult(dataset, version, tuple(infos))

    def status(self) -> KeyringStatus:
        return KeyringStatus(
            "memory",
            "memory",
            self.kek,
            (KekInfo(self.kek, "current", "t"),),
            tuple(DataKeyInfo(k, d, v, self.kek, "t", s) for (d, v), (k, _, s) in self.data.items()),
            tuple(PurposeKeyInfo(k, scope, self.kek, "t") for scope, (k, _) in self.purpose.items()),
        )


def make_policy(
    columns: dict[str, dict[str, Any]],
    *,
    policy_id: str = "patients",
    row_id: str | None = None,
    purpose_id: str | None = None,
) -> Policy:
    return Policy.model_validate(
        {
            "id": policy_id,
            "owner": "data-team",
            "purpose": "label patient intake forms for triage models",
            "purpose_id": purpose_id,
            "ethics_risk": "E2",
            "source": {"path": "intake.csv"},
            "row_id": row_id,
            "columns": columns,
            "assessment": {
                "purpose": "label patient intake forms for triage models (test policy)",
                "legal_basis": "public_task",
                "data_subjects": ["patients"],
                "recipients": ["triage model team"],
                "retention_period": "1y",
            },
        }
    )


def enc(joinable: bool = False) -> dict[str, Any]:
    return {"role": "direct_identifier", "treatment": "encrypt", "joinable": joinable}


def psd(**params: Any) -> dict[str, Any]:
    return {"role": "direct_identifier", "treatment": "pseudonymise", "params": params}


def keep(role: str = "feature") -> dict[str, Any]:
    return {"role": role, "treatment": "keep"}
