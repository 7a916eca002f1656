"""Where the local keyring's root key comes from.

Resolution order (first one present wins):

1. ``CLEARHOUSE_MASTER_KEY`` — base64 or urlsafe-base64 of exactly 32 random bytes.
2. ``CLEARHOUSE_MASTER_PASSPHRASE`` — stretched with scrypt (n=2**15, r=8, p=1); the random salt and the
   parameters are stored in the keyring file, so the same passphrase gives the same root key.
3. ``<keys_dir>/master.key`` — a development key written by :func:`create_dev_master_key` for the
   embedded demo only: it sits next to the keyring it protects, so it protects nothing against anyone who
   can read that directory.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from clearhouse.errors import KeyringError
from clearhouse.privacy.crypto._encoding import b64_std_decode, b64_std_encode

ENV_MASTER_KEY = "CLEARHOUSE_MASTER_KEY"
ENV_PASSPHRASE = "CLEARHOUSE_MASTER_PASSPHRASE"  # noqa: S105 - the variable name, not a secret
DEV_KEY_FILE = "master.key"
KEY_BYTES = 32
MIN_PASSPHRASE_CHARS = 12

RootSourceKind = Literal["env-key", "passphrase", "dev-file"]

_GENERATE_HINT = (
    "generate one with: "
    'python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
)


@dataclass(frozen=True)
class ScryptParams:
    """scrypt parameters stored (with the salt) in the keyring; the salt is not secret."""

    salt: bytes
    n: int = 2**15
    r: int = 8
    p: int = 1

    @classmethod
    def new(cls, *, n: int = 2**15) -> ScryptParams:
        """Fresh random 128-bit salt."""
        return cls(salt=secrets.token_bytes(16), n=n)

    def to_json(self) -> dict[str, Any]:
        return {"name": "scrypt", "salt": b64_std_encode(self.salt), "n": self.n, "r": self.r, "p": self.p}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScryptParams:
        try:
            if data["name"] != "scrypt":
                raise ValueError(data["name"])
            return cls(
                salt=b64_std_decode(data["salt"]), n=int(data["n"]), r=int(data["r"]), p=int(data["p"])
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise KeyringError("keyring root.kdf is malformed (expected scrypt with salt, n, r, p)") from exc


def describe_source(kind: str) -> str:
    """Name of a root-key source kind for messages, e.g. ``CLEARHOUSE_MASTER_KEY``."""
    return {
        "env-key": ENV_MASTER_KEY,
        "passphrase": ENV_PASSPHRASE,
        "dev-file": f"the development key file {DEV_KEY_FILE}",
    }.get(kind, "an unknown source")


class RootSecret:
    """The configured root secret, before any key derivation. Redacting repr; never pickled."""

    __slots__ = ("__secret", "kind")

    def __init__(self, kind: RootSourceKind, secret: bytes) -> None:
        self.kind: RootSourceKind = kind
        self.__secret = secret

    @property
    def description(self) -> str:
        """Human description of the source for messages (names the env var or file, never the value)."""
        return describe_source(self.kind)

    @property
    def needs_kdf(self) -> bool:
        return self.kind == "passphrase"

    def derive(self, kdf: ScryptParams | None) -> bytes:
        """The 256-bit root key. Passphrases need the keyring's scrypt parameters."""
        if self.kind != "passphrase":
            return self.__secret
        if kdf is None:
            raise KeyringError(
                f"this keyring was not created from a passphrase (it has no scrypt salt); "
                f"unset {ENV_PASSPHRASE} and set {ENV_MASTER_KEY} to the key it was created with"
            )
        return Scrypt(salt=kdf.salt, length=KEY_BYTES, n=kdf.n, r=kdf.r, p=kdf.p).derive(self.__secret)

    def __repr__(self) -> str:
        return f"RootSecret(kind={self.kind!r}, secret=<redacted>)"

    def __reduce__(self) -> Any:
        raise TypeError("RootSecret holds key material and cannot be pickled")


def decode_master_key(text: str, *, origin: str) -> bytes:
    """Decode base64 or urlsafe-base64 (padding optional) of exactly 32 bytes; ``origin`` names the source."""
    cleaned = "".join(text.split()).replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyringError(f"{origin} is not valid base64; {_GENERATE_HINT}") from exc
    if len(raw) != KEY_BYTES:
        raise KeyringError(
            f"{origin} decodes to {len(raw)} bytes; it must be exactly {KEY_BYTES} bytes (256 bits); "
            f"{_GENERATE_HINT}"
        )
    return raw


def check_private_file(path: Path, what: str) -> None:
    """Refuse a secret-bearing file that the group or others can access (or that is not a regular file)."""
    try:
        st = path.stat(follow_symlinks=False)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise KeyringError(f"cannot stat {what} {path}: {exc.strerror}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise KeyringError(f"{what} {path} is not a regular file (symlinks are refused)")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise KeyringError(
            f"{what} {path} has mode {mode:04o}: group/others can access it; "
            f"it must be 0600 (run: chmod 600 {path})"
        )


def resolve_root_secret(keys_dir: Path, env: Mapping[str, str]) -> RootSecret:
    """Find the root secret (see module docstring for the order). Raises ``KeyringError`` if none is set."""
    if key_text := env.get(ENV_MASTER_KEY, "").strip():
        return RootSecret("env-key", decode_master_key(key_text, origin=ENV_MASTER_KEY))
    if passphrase := env.get(ENV_PASSPHRASE, ""):
        if len(passphrase) < MIN_PASSPHRASE_CHARS:
            raise KeyringError(f"{ENV_PASSPHRASE} is shorter than {MIN_PASSPHRASE_CHARS} characters")
        return RootSecret("passphrase", passphrase.encode("utf-8"))
    dev_file = keys_dir / DEV_KEY_FILE
    try:
        check_private_file(dev_file, "development master key file")
    except FileNotFoundError:
        raise KeyringError(
            f"no master key for the keyring in {keys_dir}: set {ENV_MASTER_KEY} (base64 of 32 random bytes) "
            f"or {ENV_PASSPHRASE}; for the local demo only, create a development key with "
            "privacy.crypto.create_dev_master_key(keys_dir)"
        ) from None
    try:
        text = dev_file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyringError(f"cannot read development master key file {dev_file}") from exc
    return RootSecret("dev-file", decode_master_key(text, origin=f"development master key file {dev_file}"))


def create_dev_master_key(keys_dir: Path | str) -> Path:
    """Write a random development master key to ``<keys_dir>/master.key`` (mode 0600) and return its path.

    FOR THE EMBEDDED DEMO ONLY. The key sits beside the keyring it protects, so anyone who can read the
    keys directory can decrypt everything; production deployments set ``CLEARHOUSE_MASTER_KEY`` (or use a
    KMS provider). Idempotent: an existing file is checked (mode and length) and kept, never overwritten,
    because overwriting it would make the existing keyring unreadable.
    """
    keys_dir = Path(keys_dir)
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys_dir / DEV_KEY_FILE
    encoded = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        check_private_file(path, "development master key file")
        decode_master_key(path.read_text(encoding="ascii"), origin=f"development master key file {path}")
        return path
    with os.fdopen(fd, "wb") as handle:
        handle.write(encoded)
        handle.flush()
        os.fsync(handle.fileno())
    return path
