"""Key handles and key metadata returned by a :class:`~privacy.crypto.provider.KeyProvider`.

Key handles (:class:`DataKey`, :class:`PurposeKey`) hold raw key bytes; their ``repr``/``str`` never show
them, they do not compare by value and they refuse to be pickled, so a handle that ends up in a log line,
an exception, an XCom or a task result leaks nothing. Metadata objects (``*Info``, results, status) hold
no key material at all and are safe to print, log and store in the catalog.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NoReturn

_REDACTED = "<redacted>"


class _SecretKey:
    """Common behaviour of key handles: private bytes, redacting repr, no pickling, identity equality."""

    __slots__ = ("__raw",)

    def __init__(self, raw: bytes) -> None:
        self.__raw = bytes(raw)

    def key_bytes(self) -> bytes:
        """The raw key. Only cipher constructors should call this; never log or persist the result."""
        return self.__raw

    def __reduce__(self) -> NoReturn:
        # Pickling would copy the key into XCom, a process pool queue or a cache file.
        raise TypeError(f"{type(self).__name__} holds key material and cannot be pickled")

    def __str__(self) -> str:
        return repr(self)


class DataKey(_SecretKey):
    """The data-encryption key of one dataset version (AES-256; subkeys are derived per column).

    ``kek_version`` is the key-encryption-key version that wraps this data key in the keyring right now.
    """

    __slots__ = ("dataset", "kek_version", "key_id", "version")

    def __init__(self, *, key_id: str, dataset: str, version: str, kek_version: int, raw: bytes) -> None:
        super().__init__(raw)
        self.key_id = key_id
        self.dataset = dataset
        self.version = version
        self.kek_version = kek_version

    def __repr__(self) -> str:
        return (
            f"DataKey(key_id={self.key_id!r}, dataset={self.dataset!r}, version={self.version!r}, "
            f"kek_version={self.kek_version}, key={_REDACTED})"
        )


class PurposeKey(_SecretKey):
    """The HMAC key of one pseudonym scope (a policy's ``purpose_id``, else its dataset id)."""

    __slots__ = ("kek_version", "key_id", "scope")

    def __init__(self, *, key_id: str, scope: str, kek_version: int, raw: bytes) -> None:
        super().__init__(raw)
        self.key_id = key_id
        self.scope = scope
        self.kek_version = kek_version

    def __repr__(self) -> str:
        return (
            f"PurposeKey(key_id={self.key_id!r}, scope={self.scope!r}, "
            f"kek_version={self.kek_version}, key={_REDACTED})"
        )


# ------------------------------------------------------------------------------------------ metadata

KekStatus = Literal["current", "active", "retired"]


@dataclass(frozen=True)
class KekInfo:
    """One key-encryption-key version. ``active`` = still usable for unwrapping, not current."""

    version: int
    status: KekStatus
    created_at: str
    retired_at: str | None = None


@dataclass(frozen=True)
class DataKeyInfo:
    """Metadata of one data key (no key bytes)."""

    key_id: str
    dataset: str
    version: str
    kek_version: int
    created_at: str
    shredded_at: str | None = None

    @property
    def shredded(self) -> bool:
        return self.shredded_at is not None


@dataclass(frozen=True)
class PurposeKeyInfo:
    """Metadata of one pseudonym purpose key (no key bytes)."""

    key_id: str
    scope: str
    kek_version: int
    created_at: str


@dataclass(frozen=True)
class KeyringStatus:
    """Everything ``clearhouse keys status`` shows. Safe to print and to store."""

    provider: str
    location: str
    current_kek: int | None
    keks: tuple[KekInfo, ...] = ()
    data_keys: tuple[DataKeyInfo, ...] = ()
    purpose_keys: tuple[PurposeKeyInfo, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class RotationResult:
    """Outcome of :meth:`KeyProvider.rotate_kek` or :meth:`KeyProvider.rewrap`."""

    previous_kek: int | None
    current_kek: int
    rewrapped_data_keys: int
    rewrapped_purpose_keys: int
    #: data/purpose keys still wrapped under an older KEK (non-zero only after ``rotate_kek(rewrap=False)``)
    pending: int = 0


@dataclass(frozen=True)
class ShredResult:
    """Outcome of :meth:`KeyProvider.shred`: keys destroyed by this call (already shredded ones counted)."""

    dataset: str
    version: str | None
    shredded: tuple[DataKeyInfo, ...] = field(default_factory=tuple)
    already_shredded: int = 0
