"""``local`` key provider: a JSON keyring file protected by a root key from the environment.

Hierarchy::

    root key (CLEARHOUSE_MASTER_KEY | scrypt(CLEARHOUSE_MASTER_PASSPHRASE) | dev master.key)
      └─ KEK v1, v2, …           random 256-bit, AES-GCM-wrapped by the root key
           ├─ data keys          one per (dataset, version), wrapped by the current KEK
           └─ purpose keys       one per pseudonym scope, wrapped by the current KEK

The file ``<keys_dir>/keyring.json`` holds only wrapped keys and metadata. A *check value* (a constant
AES-GCM-encrypted under the root key) tells a wrong master key apart from a damaged file before anything
else is unwrapped. The root key stays in memory for the provider's lifetime; unwrapped KEKs are cached
(they never change), data and purpose keys are unwrapped from a fresh read on every call so a ``shred``
by another process takes effect immediately.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clearhouse.errors import KeyringError
from clearhouse.privacy.crypto.keyring_file import KeyringFile
from clearhouse.privacy.crypto.keys import (
    DataKey,
    DataKeyInfo,
    KekInfo,
    KeyringStatus,
    PurposeKey,
    PurposeKeyInfo,
    RotationResult,
    ShredResult,
)
from clearhouse.privacy.crypto.provider import KeyProvider, register_provider
from clearhouse.privacy.crypto.root_key import ScryptParams, describe_source, resolve_root_secret
from clearhouse.privacy.crypto.wrapping import UnwrapError, label, unwrap, wrap

log = logging.getLogger(__name__)

FORMAT = "clearhouse-keyring/1"
_CHECK_PLAINTEXT = b"clearhouse keyring root check v1"

Doc = dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _dek_label(key_id: str, entry: Mapping[str, Any], kek_version: int) -> bytes:
    return label("dek", key_id, entry["dataset"], entry["version"], kek_version)


def _pk_label(key_id: str, entry: Mapping[str, Any], kek_version: int) -> bytes:
    return label("purpose", key_id, entry["scope"], kek_version)


class LocalKeyringProvider(KeyProvider):
    """Key provider backed by ``<keys_dir>/keyring.json`` (mode 0600, atomic writes, fcntl lock).

    :param keys_dir: directory of the keyring (``Settings.keys_dir``); created 0700 if missing.
    :param env: where to read ``CLEARHOUSE_MASTER_KEY`` / ``CLEARHOUSE_MASTER_PASSPHRASE`` (default
        ``os.environ``, read lazily on first use).
    :param scrypt_n: scrypt cost for a *new* passphrase keyring (existing keyrings keep theirs).
    :param lock_timeout: seconds to wait for another task's lock before failing.
    """

    name = "local"

    def __init__(
        self,
        keys_dir: Path | str,
        *,
        env: Mapping[str, str] | None = None,
        scrypt_n: int = 2**15,
        lock_timeout: float = 30.0,
    ) -> None:
        self.keys_dir = Path(keys_dir)
        self._file = KeyringFile(self.keys_dir, lock_timeout=lock_timeout)
        self._env = env
        self._scrypt_n = scrypt_n
        # (root check blob, root key): re-derived only if the keyring is replaced by a different one
        self._root: tuple[str, bytes] | None = None
        self._kek_cache: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"LocalKeyringProvider(keys_dir={str(self.keys_dir)!r})"

    @property
    def location(self) -> str:
        return str(self._file.path)

    # ------------------------------------------------------------------------------- root & KEKs

    def _environ(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    def _initialise(self, doc: Doc) -> None:
        """Fill an empty document with a root check value and KEK v1."""
        secret = resolve_root_secret(self.keys_dir, self._environ())
        kdf = ScryptParams.new(n=self._scrypt_n) if secret.needs_kdf else None
        root_key = secret.derive(kdf)
        check = wrap(root_key, _CHECK_PLAINTEXT, label("root-check"))
        kek = secrets.token_bytes(32)
        doc.clear()
        doc.update(
            {
                "format": FORMAT,
                "created_at": _now(),
                "root": {"source": secret.kind, "kdf": kdf.to_json() if kdf else None, "check": check},
                "current_kek": 1,
                "keks": {
                    "1": {
                        "wrapped": wrap(root_key, kek, label("kek", 1)),
                        "created_at": _now(),
                        "retired_at": None,
                    }
                },
                "data_keys": {},
                "purpose_keys": {},
            }
        )
        self._root = (check, root_key)
        log.info("created keyring %s (root key from %s, KEK v1)", self._file.path, secret.description)

    def _root_key(self, doc: Doc) -> bytes:
        root = doc["root"]
        check = root["check"]
        if self._root is not None and self._root[0] == check:
            return self._root[1]
        secret = resolve_root_secret(self.keys_dir, self._environ())
        kdf = ScryptParams.from_json(root["kdf"]) if root.get("kdf") else None
        root_key = secret.derive(kdf)
        try:
            unwrap(root_key, check, label("root-check"))
        except UnwrapError as exc:
            created_with = describe_source(str(root.get("source")))
            raise KeyringError(
                f"master key does not match this keyring ({self._file.path}): it was created with "
                f"{created_with}, and the key in use comes from {secret.description}"
            ) from exc
        self._root = (check, root_key)
        return root_key

    def _kek(self, doc: Doc, version: int) -> bytes:
        entry = doc["keks"].get(str(version))
        if entry is None:
            raise KeyringError(f"KEK v{version} is not in keyring {self._file.path}")
        blob = entry.get("wrapped")
        if blob is None:
            raise KeyringError(f"KEK v{version} is retired (destroyed); keys wrapped under it are lost")
        cached = self._kek_cache.get(blob)
        if cached is not None:
            return cached
        root_key = self._root_key(doc)
        try:
            kek = unwrap(root_key, blob, label("kek", version))
        except UnwrapError as exc:
            raise KeyringError(
                f"KEK v{version} in {self._file.path} does not authenticate: the keyring file is damaged"
            ) from exc
        self._kek_cache[blob] = kek
        return kek

    # ------------------------------------------------------------------------------- documents

    def _read(self) -> Doc:
        doc = self._file.read()
        if doc is None:
            raise KeyringError(
                f"no keyring at {self._file.path}: it is created when the first dataset version is protected"
            )
        return self._validated(doc)

    def _validated(self, doc: Doc) -> Doc:
        if doc.get("format") != FORMAT:
            raise KeyringError(f"keyring {self._file.path} has unsupported format {doc.get('format')!r}")
        for section in ("root", "keks", "data_keys", "purpose_keys"):
            if not isinstance(doc.get(section), dict):
                raise KeyringError(f"keyring {self._file.path} is malformed: section {section!r} missing")
        if str(doc.get("current_kek")) not in doc["keks"]:
            raise KeyringError(f"keyring {self._file.path} is malformed: current KEK is not listed")
        return doc

    def _writable(self, doc: Doc) -> Doc:
        """Inside a transaction: initialise an empty keyring, else validate and check the root key."""
        if not doc:
            self._initialise(doc)
        else:
            self._validated(doc)
            self._root_key(doc)
        return doc

    # ------------------------------------------------------------------------------- data keys

    @staticmethod
    def _find_data_key(doc: Doc, dataset: str, version: str) -> tuple[str, Doc] | None:
        for key_id, entry in doc["data_keys"].items():
            if entry["dataset"] == dataset and entry["version"] == version:
                return key_id, entry
        return None

    def _open_data_key(self, doc: Doc, key_id: str, entry: Doc) -> DataKey:
        where = f"data key {key_id} (dataset {entry['dataset']!r} version {entry['version']!r})"
        if entry.get("shredded_at"):
            raise KeyringError(
                f"{where} was shredded at {entry['shredded_at']}; its ciphertext can no longer be decrypted"
            )
        kek_version = int(entry["kek_version"])
        try:
            raw = unwrap(
                self._kek(doc, kek_version), entry["wrapped"], _dek_label(key_id, entry, kek_version)
            )
        except UnwrapError as exc:
            raise KeyringError(
                f"{where} does not authenticate under KEK v{kek_version}: keyring damaged"
            ) from exc
        return DataKey(
            key_id=key_id,
            dataset=entry["dataset"],
            version=entry["version"],
            kek_version=kek_version,
            raw=raw,
        )

    def create_data_key(self, dataset: str, version: str) -> DataKey:
        self.check_label("dataset", dataset)
        self.check_label("version", version)
        existing = self._file.read()
        if existing:
            found = self._find_data_key(self._validated(existing), dataset, version)
            if found is not None:
                return self._open_data_key(existing, *found)
        with self._file.transaction() as doc:
            self._writable(doc)
            found = self._find_data_key(doc, dataset, version)
            if found is not None:  # another task created it between our read and our lock
                return self._open_data_key(doc, *found)
            key_id = f"dk_{secrets.token_hex(8)}"
            kek_version = int(doc["current_kek"])
            entry: Doc = {
                "dataset": dataset,
                "version": version,
                "kek_version": kek_version,
                "created_at": _now(),
                "shredded_at": None,
            }
            raw = secrets.token_bytes(32)
            entry["wrapped"] = wrap(self._kek(doc, kek_version), raw, _dek_label(key_id, entry, kek_version))
            doc["data_keys"][key_id] = entry
        log.info(
            "created data key %s for dataset %r version %r (KEK v%d)", key_id, dataset, version, kek_version
        )
        return DataKey(key_id=key_id, dataset=dataset, version=version, kek_version=kek_version, raw=raw)

    def get_data_key(self, dataset: str, version: str) -> DataKey:
        doc = self._read()
        found = self._find_data_key(doc, dataset, version)
        if found is None:
            raise KeyringError(
                f"no data key for dataset {dataset!r} version {version!r} in {self._file.path}"
            )
        return self._open_data_key(doc, *found)

    # ---------------------------------------------------------------------------- purpose keys

    @staticmethod
    def _find_purpose_key(doc: Doc, scope: str) -> tuple[str, Doc] | None:
        for key_id, entry in doc["purpose_keys"].items():
            if entry["scope"] == scope:
                return key_id, entry
        return None

    def _open_purpose_key(self, doc: Doc, key_id: str, entry: Doc) -> PurposeKey:
        kek_version = int(entry["kek_version"])
        try:
            raw = unwrap(self._kek(doc, kek_version), entry["wrapped"], _pk_label(key_id, entry, kek_version))
        except UnwrapError as exc:
            raise KeyringError(
                f"purpose key {key_id} (scope {entry['scope']!r}) does not authenticate: keyring damaged"
            ) from exc
        return PurposeKey(key_id=key_id, scope=entry["scope"], kek_version=kek_version, raw=raw)

    def purpose_key(self, scope: str) -> PurposeKey:
        self.check_label("scope", scope)
        existing = self._file.read()
        if existing:
            found = self._find_purpose_key(self._validated(existing), scope)
            if found is not None:
                return self._open_purpose_key(existing, *found)
        with self._file.transaction() as doc:
            self._writable(doc)
            found = self._find_purpose_key(doc, scope)
            if found is not None:
                return self._open_purpose_key(doc, *found)
            key_id = f"pk_{secrets.token_hex(8)}"
            kek_version = int(doc["current_kek"])
            entry: Doc = {"scope": scope, "kek_version": kek_version, "created_at": _now()}
            raw = secrets.token_bytes(32)
            entry["wrapped"] = wrap(self._kek(doc, kek_version), raw, _pk_label(key_id, entry, kek_version))
            doc["purpose_keys"][key_id] = entry
        log.info("created purpose key %s for pseudonym scope %r (KEK v%d)", key_id, scope, kek_version)
        return PurposeKey(key_id=key_id, scope=scope, kek_version=kek_version, raw=raw)

    # ------------------------------------------------------------------------------- lifecycle

    def _rewrap_all(self, doc: Doc, from_version: int | None) -> tuple[int, int]:
        """Re-wrap entries not under the current KEK (optionally only those under ``from_version``)."""
        current = int(doc["current_kek"])
        new_kek = self._kek(doc, current)
        counts = [0, 0]
        sections = (("data_keys", _dek_label, 0), ("purpose_keys", _pk_label, 1))
        for section, make_label, slot in sections:
            for key_id, entry in doc[section].items():
                old = int(entry["kek_version"])
                if (
                    entry.get("shredded_at")
                    or old == current
                    or (from_version is not None and old != from_version)
                ):
                    continue
                try:
                    raw = unwrap(self._kek(doc, old), entry["wrapped"], make_label(key_id, entry, old))
                except UnwrapError as exc:
                    raise KeyringError(
                        f"{key_id} does not authenticate under KEK v{old}: keyring damaged"
                    ) from exc
                entry["wrapped"] = wrap(new_kek, raw, make_label(key_id, entry, current))
                entry["kek_version"] = current
                counts[slot] += 1
        return counts[0], counts[1]

    @staticmethod
    def _pending(doc: Doc) -> int:
        current = int(doc["current_kek"])
        return sum(
            1
            for section in ("data_keys", "purpose_keys")
            for entry in doc[section].values()
            if not entry.get("shredded_at") and int(entry["kek_version"]) != current
        )

    def rotate_kek(self, *, rewrap: bool = True) -> RotationResult:
        with self._file.transaction() as doc:
            if not doc:
                raise KeyringError(f"no keyring at {self._file.path} to rotate")
            self._writable(doc)
            previous = int(doc["current_kek"])
            new_version = max(int(v) for v in doc["keks"]) + 1
            doc["keks"][str(new_version)] = {
                "wrapped": wrap(self._root_key(doc), secrets.token_bytes(32), label("kek", new_version)),
                "created_at": _now(),
                "retired_at": None,
            }
            doc["current_kek"] = new_version
            data_n, purpose_n = self._rewrap_all(doc, None) if rewrap else (0, 0)
            pending = self._pending(doc)
        log.info(
            "rotated KEK v%d -> v%d; re-wrapped %d data and %d purpose keys, %d pending",
            previous,
            new_version,
            data_n,
            purpose_n,
            pending,
        )
        return RotationResult(previous, new_version, data_n, purpose_n, pending)

    def rewrap(self, *, from_version: int | None = None) -> RotationResult:
        with self._file.transaction() as doc:
            if not doc:
                raise KeyringError(f"no keyring at {self._file.path} to rewrap")
            self._writable(doc)
            if from_version is not None and str(from_version) not in doc["keks"]:
                raise KeyringError(f"KEK v{from_version} is not in keyring {self._file.path}")
            current = int(doc["current_kek"])
            data_n, purpose_n = self._rewrap_all(doc, from_version)
            pending = self._pending(doc)
        log.info("re-wrapped %d data and %d purpose keys under KEK v%d", data_n, purpose_n, current)
        return RotationResult(current, current, data_n, purpose_n, pending)

    def retire_kek(self, version: int) -> None:
        with self._file.transaction() as doc:
            if not doc:
                raise KeyringError(f"no keyring at {self._file.path}")
            self._writable(doc)
            entry = doc["keks"].get(str(version))
            if entry is None:
                raise KeyringError(f"KEK v{version} is not in keyring {self._file.path}")
            if entry.get("retired_at"):
                return
            if int(doc["current_kek"]) == version:
                raise KeyringError(
                    f"KEK v{version} is the current KEK; rotate to a new version before retiring it"
                )
            still = {
                section: sum(
                    1
                    for e in doc[section].values()
                    if not e.get("shredded_at") and int(e["kek_version"]) == version
                )
                for section in ("data_keys", "purpose_keys")
            }
            if any(still.values()):
                raise KeyringError(
                    f"KEK v{version} still wraps {still['data_keys']} data key(s) and "
                    f"{still['purpose_keys']} purpose key(s); re-wrap them first "
                    f"(rewrap(from_version={version}), i.e. `clearhouse keys rotate` re-wraps everything)"
                )
            entry["wrapped"] = None  # destroy: nothing needs it, and a retired KEK must not come back
            entry["retired_at"] = _now()
        log.info("retired KEK v%d", version)

    def shred(self, dataset: str, version: str | None = None) -> ShredResult:
        self.check_label("dataset", dataset)
        if version is not None:
            self.check_label("version", version)
        shredded: list[DataKeyInfo] = []
        already = 0
        with self._file.transaction() as doc:
            if not doc:
                raise KeyringError(f"no keyring at {self._file.path}")
            # no root-key check: destroying a key must work even for an operator without the master key
            self._validated(doc)
            matches = [
                (key_id, entry)
                for key_id, entry in doc["data_keys"].items()
                if entry["dataset"] == dataset and (version is None or entry["version"] == version)
            ]
            if not matches:
                what = f"dataset {dataset!r}" + (f" version {version!r}" if version is not None else "")
                raise KeyringError(f"no data key for {what} in {self._file.path}")
            for key_id, entry in matches:
                if entry.get("shredded_at"):
                    already += 1
                    continue
                entry["wrapped"] = None
                entry["shredded_at"] = _now()
                shredded.append(_data_key_info(key_id, entry))
        for info in shredded:
            log.info("shredded data key %s of dataset %r version %r", info.key_id, info.dataset, info.version)
        return ShredResult(
            dataset=dataset, version=version, shredded=tuple(shredded), already_shredded=already
        )

    def check_access(self) -> None:
        """Verify a root key is configured and, if the keyring exists, that it is the right one."""
        doc = self._file.read()
        if doc is None:
            resolve_root_secret(self.keys_dir, self._environ())
            self._file.check_dir()
            return
        self._root_key(self._validated(doc))

    def status(self) -> KeyringStatus:
        raw = self._file.read()
        if raw is None:
            return KeyringStatus(provider=self.name, location=self.location, current_kek=None)
        doc = self._validated(raw)
        current = int(doc["current_kek"])
        keks = tuple(
            KekInfo(
                version=int(v),
                status="retired" if e.get("retired_at") else ("current" if int(v) == current else "active"),
                created_at=e["created_at"],
                retired_at=e.get("retired_at"),
            )
            for v, e in sorted(doc["keks"].items(), key=lambda item: int(item[0]))
        )
        data_keys = tuple(
            sorted(
                (_data_key_info(k, e) for k, e in doc["data_keys"].items()),
                key=lambda info: (info.dataset, info.version, info.created_at),
            )
        )
        purpose_keys = tuple(
            sorted(
                (
                    PurposeKeyInfo(
                        key_id=k,
                        scope=e["scope"],
                        kek_version=int(e["kek_version"]),
                        created_at=e["created_at"],
                    )
                    for k, e in doc["purpose_keys"].items()
                ),
                key=lambda info: info.scope,
            )
        )
        return KeyringStatus(self.name, self.location, current, keks, data_keys, purpose_keys)


def _data_key_info(key_id: str, entry: Mapping[str, Any]) -> DataKeyInfo:
    return DataKeyInfo(
        key_id=key_id,
        dataset=entry["dataset"],
        version=entry["version"],
        kek_version=int(entry["kek_version"]),
        created_at=entry["created_at"],
        shredded_at=entry.get("shredded_at"),
    )


register_provider(LocalKeyringProvider.name, LocalKeyringProvider)
