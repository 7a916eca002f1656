"""The key-provider interface and its registry.

A *key provider* owns the key hierarchy: a root of trust (master key, KMS key) → key-encryption-key (KEK)
versions → data keys (one per dataset version, for field encryption) and purpose keys (one per pseudonym
scope, for HMAC). The pipeline only ever talks to :class:`KeyProvider`; which implementation runs is a
string in configuration, resolved by :func:`create_provider` (the same shape as Presidio's operators
factory and the OpenLineage transport factory).

Plugging in an external KMS
---------------------------
Subclass :class:`KeyProvider`, implement the abstract methods, and register the class::

    from clearhouse.privacy.crypto.provider import KeyProvider, register_provider

    class VaultTransitProvider(KeyProvider):
        name = "vault-transit"
        def __init__(self, *, url: str, mount: str = "transit", key_name: str) -> None: ...
        ...

    register_provider("vault-transit", VaultTransitProvider)
    provider = create_provider("vault-transit", url=..., key_name="clearhouse")

How the operations map onto a KMS (Vault transit shown; cloud KMSs are analogous):

* KEK versions are the KMS key's versions. ``rotate_kek`` → ``transit/keys/<name>/rotate`` then
  ``transit/rewrap`` of every stored wrapped key; ``retire_kek(v)`` → raise ``min_decryption_version``
  past ``v`` once nothing is wrapped under it.
* Data and purpose keys are generated with ``transit/datakey/wrapped`` (or locally and wrapped with
  ``transit/encrypt``); the provider stores the *wrapped* key and its metadata in its own store (a DB
  table or a file like the local keyring) and unwraps on ``get_*``.
* ``shred`` deletes the wrapped key from that store; with no copy of the plaintext key anywhere, the
  ciphertext of that dataset version becomes unreadable (crypto-shredding).

Contract every provider keeps (the test-suite in ``tests/privacy/crypto`` checks it for the local one):

* Key handles never expose bytes through ``repr``/``str``; metadata never contains key bytes.
* Every failure is a :class:`~clearhouse.errors.KeyringError` that names dataset/version/key id/KEK
  version, never key material or passphrases; unknown, shredded and retired keys are errors, never a
  silently generated replacement (privacy controls fail closed).
* Writes are atomic and safe against concurrent tasks; ``create_data_key`` and ``purpose_key`` are
  idempotent so a retried task reuses the key its first attempt created.
"""

from __future__ import annotations

import importlib
import inspect
import re
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from clearhouse.errors import KeyringError, ProtectionError
from clearhouse.privacy.crypto.keys import DataKey, KeyringStatus, PurposeKey, RotationResult, ShredResult

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,62}$")
# A dataset version or scope ends up in the keyring JSON and in messages; control characters there would
# forge log lines, and unbounded length is never legitimate.
_LABEL = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


class KeyProvider(ABC):
    """Abstract key provider. See the module docstring for the contract and how a KMS plugs in."""

    #: registry name, set by each implementation (e.g. ``"local"``)
    name: ClassVar[str] = ""

    # ---------------------------------------------------------------------------------- data keys

    @abstractmethod
    def create_data_key(self, dataset: str, version: str) -> DataKey:
        """Return the data key of ``(dataset, version)``, creating it if it does not exist yet.

        Idempotent (a retried task gets the same key). Raises ``KeyringError`` if the version's key was
        shredded: a shredded version is never given a new key.
        """

    @abstractmethod
    def get_data_key(self, dataset: str, version: str) -> DataKey:
        """Return the existing data key of ``(dataset, version)``.

        Raises ``KeyringError`` if there is none or it was shredded (the message says "shredded").
        """

    # ------------------------------------------------------------------------------- purpose keys

    @abstractmethod
    def purpose_key(self, scope: str) -> PurposeKey:
        """Return the HMAC key of a pseudonym scope, creating it on first use; stable across runs."""

    # --------------------------------------------------------------------------------- lifecycle

    @abstractmethod
    def rotate_kek(self, *, rewrap: bool = True) -> RotationResult:
        """Create a new KEK version and make it current.

        With ``rewrap`` (the default) every data and purpose key is re-wrapped under the new version in
        the same atomic step; no data is re-encrypted (field ciphertexts depend on data keys only).
        With ``rewrap=False`` existing keys stay under their old version until :meth:`rewrap` runs.
        """

    @abstractmethod
    def rewrap(self, *, from_version: int | None = None) -> RotationResult:
        """Re-wrap keys still under an older KEK (or only under ``from_version``) with the current KEK."""

    @abstractmethod
    def retire_kek(self, version: int) -> None:
        """Retire (destroy) a KEK version.

        Refused with ``KeyringError`` while it is the current version or while any non-shredded data or
        purpose key is still wrapped under it (the message says how many and to rewrap first).
        """

    @abstractmethod
    def shred(self, dataset: str, version: str | None = None) -> ShredResult:
        """Destroy the data key(s) of a dataset (one version, or all versions).

        Afterwards ``get_data_key`` raises ``KeyringError`` mentioning "shredded" and the ciphertext of
        those versions cannot be decrypted by anyone. Keys of other datasets/versions are untouched.
        Raises ``KeyringError`` if the dataset (version) has no data key at all.
        """

    @abstractmethod
    def status(self) -> KeyringStatus:
        """List KEK versions, data keys and purpose keys with their metadata (never key bytes)."""

    def check_access(self) -> None:
        """Fail closed before a run: raise ``KeyringError`` unless keys can be created and opened.

        Providers override this with a real check (the local keyring verifies the master key against its
        check value; a KMS provider would call the KMS). The default only lists the keys.
        """
        self.status()

    # ------------------------------------------------------------------------------- helpers

    @staticmethod
    def check_label(kind: str, value: str) -> str:
        """Validate a dataset, version or scope label before it is stored; return it unchanged."""
        if not isinstance(value, str) or not _LABEL.fullmatch(value):
            raise KeyringError(f"{kind} must be 1-200 printable characters without control characters")
        return value


# ------------------------------------------------------------------------------------------- registry

_REGISTRY: dict[str, type[KeyProvider]] = {}
#: built-ins are resolved lazily, so importing the registry never imports a provider's dependencies
_BUILTIN: dict[str, str] = {"local": "clearhouse.privacy.crypto.local_keyring:LocalKeyringProvider"}


def register_provider(name: str, cls: type[KeyProvider]) -> None:
    """Register a provider class under ``name`` (lower-case, e.g. ``"vault-transit"``).

    Re-registering the same class is a no-op; registering a different class under a taken name is
    refused, so a plug-in cannot silently replace the keyring of another.
    """
    if not _NAME.fullmatch(name):
        raise ProtectionError(f"provider name {name!r} must be lower-case letters, digits, '_', '.', '-'")
    if not (inspect.isclass(cls) and issubclass(cls, KeyProvider)):
        raise ProtectionError(f"provider {name!r} must be a KeyProvider subclass")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ProtectionError(
            f"provider name {name!r} is already registered to {existing.__module__}.{existing.__qualname__}"
        )
    _REGISTRY[name] = cls


def available_providers() -> list[str]:
    """Names that :func:`create_provider` accepts."""
    return sorted(set(_REGISTRY) | set(_BUILTIN))


def _resolve(name: str) -> type[KeyProvider]:
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in _BUILTIN:
        module_name, _, attr = _BUILTIN[name].partition(":")
        cls = getattr(importlib.import_module(module_name), attr)
        register_provider(name, cls)
        return _REGISTRY[name]
    raise ProtectionError(f"unknown key provider {name!r}; available: {', '.join(available_providers())}")


def create_provider(name: str, **config: Any) -> KeyProvider:
    """Instantiate the provider registered as ``name`` with ``config`` (e.g. ``keys_dir=...``).

    Unknown or missing configuration keys are reported with the parameters the provider accepts, before
    any key is touched (fail early).
    """
    cls = _resolve(name)
    signature = inspect.signature(cls.__init__)
    try:
        signature.bind(None, **config)
    except TypeError as exc:
        accepted = [p for p in signature.parameters if p != "self"]
        raise ProtectionError(
            f"bad configuration for key provider {name!r}: {exc}; accepted parameters: {', '.join(accepted)}"
        ) from exc
    return cls(**config)
