"""Who may act: users with a role (engineer, labeler, officer), identified by API tokens.

Users live in the catalog. A token is ``ch_<token id>_<secret>``: the id is a short, non-secret prefix
used to find the one user it may belong to, and only an argon2id hash of the whole token is stored, so
a copy of the catalog grants nothing. Tokens are shown once, when issued. Environment names and OS
users grant nothing: an act needs a token (``CLEARHOUSE_TOKEN`` or a 0600 ``--token-file``).

A labeler's certification names the officer who certified them and the last day it is valid; an
uncertified, expired or revoked labeler is refused. Every refusal is recorded (audit log and ledger),
and so is every change to a user.

The CLI and the web portal share :func:`authenticate` and :func:`require`; the acts re-check the
acting :class:`User` against the catalog (:func:`ensure`), so a revocation takes effect at once, even
for a session that authenticated before it.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clearhouse.catalog import Catalog, UserRecord
from clearhouse.errors import AuthenticationError, CatalogError, ClearhouseError, ConfigError, PermissionDenied
from clearhouse.governance.record import act as record_act
from clearhouse.settings import Settings

ROLES = ("engineer", "labeler", "officer")
NAME = re.compile(r"^[a-z][a-z0-9._-]{0,62}$")
TOKEN = re.compile(r"^ch_([0-9a-f]{12})_([A-Za-z0-9_-]{32,})$")
FIRST_OFFICER = "officer"
FIRST_OFFICER_FILE = "first-officer.token"
#: the name recorded for acts nobody authenticated for (``clearhouse init`` creating the first officer)
SYSTEM = "clearhouse-init"

# argon2id at OWASP's minimum for passwords (19 MiB, 2 passes, 1 lane). A token carries 256 random
# bits, so offline guessing is hopeless whatever the cost; the hash only has to make a stolen catalog
# useless, and every authenticated act (and web request) pays for it. (argon2-cffi's default profile,
# 64 MiB x 3 passes x 4 lanes, measured ~0.66 s per act on this 2-core machine under load.)
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# verified when a token id is unknown, so an unknown id costs what a wrong secret costs
_DUMMY_HASH = _hasher.hash("ch_000000000000_" + "x" * 43)


@dataclass(frozen=True)
class User:
    """An authenticated person. Hashes and tokens never leave this module."""

    name: str
    role: str  # "engineer" | "labeler" | "officer"
    certified_until: date | None  # labelers: last day the certification is valid
    certified_by: str | None
    revoked: bool

    def certification_problem(self, today: date | None = None) -> str | None:
        """Why this labeler may not see data today, or ``None`` when the certification holds."""
        today = today or datetime.now(UTC).date()
        if self.certified_until is None:
            return "is not certified"
        if self.certified_until < today:
            return f"certification expired on {self.certified_until.isoformat()}"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "certified_until": self.certified_until.isoformat() if self.certified_until else None,
            "certified_by": self.certified_by,
            "revoked": self.revoked,
        }


def _user(rec: UserRecord) -> User:
    return User(rec.name, rec.role, rec.certified_until, rec.certified_by, rec.revoked)


# ------------------------------------------------------------------------------------------ tokens
def new_token() -> tuple[str, str, str]:
    """A fresh token: ``(token, token id, argon2 hash)``. The token itself is never stored."""
    token_id = secrets.token_hex(6)
    token = f"ch_{token_id}_{secrets.token_urlsafe(32)}"
    return token, token_id, _hasher.hash(token)


def token_from_file(path: Path) -> str:
    """Read a token file, refusing one that group or others can read (the token is a password)."""
    path = path.expanduser()
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise AuthenticationError(f"token file {path} cannot be read") from exc
    if not stat.S_ISREG(mode):
        raise AuthenticationError(f"token file {path} is not a regular file")
    if mode & 0o077:
        raise AuthenticationError(
            f"token file {path} is readable by others (mode {stat.S_IMODE(mode):04o}); `chmod 600 {path}` first"
        )
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthenticationError(f"token file {path} cannot be read") from exc


def record_refusal(
    settings: Settings, *, act: str, why: str, actor: str | None = None, detail: dict[str, Any] | None = None
) -> None:
    """Record a refusal. The refusal stands even when it cannot be recorded (e.g. no keyring yet)."""
    payload = {"act": act, "why": why, **(detail or {})}
    with contextlib.suppress(ClearhouseError):
        record_act(settings, "access_refused", actor=actor or "unknown", detail=payload)


# ------------------------------------------------------------------------------------------ checks
def authenticate(settings: Settings, token: str | None, *, act: str) -> User:
    """The active user a token belongs to. Missing, malformed, unknown, wrong or revoked tokens raise
    :class:`AuthenticationError`, and the refusal is recorded (with the token id, never the token)."""
    if not token:
        record_refusal(settings, act=act, why="no token", actor=None)
        raise AuthenticationError(f"{act} needs a token: set CLEARHOUSE_TOKEN or pass --token-file (mode 0600)")
    match = TOKEN.fullmatch(token.strip())
    if match is None:
        record_refusal(settings, act=act, why="malformed token", actor=None)
        raise AuthenticationError("the token is not a Clearhouse token (ch_<id>_<secret>)")
    token_id = match.group(1)
    rec = Catalog(settings.db_url).user_by_token_id(token_id)
    try:
        _hasher.verify(rec.token_hash if rec else _DUMMY_HASH, token.strip())
        valid = rec is not None
    except (VerificationError, InvalidHashError):
        valid = False
    if rec is None or not valid:
        record_refusal(settings, act=act, why="unknown token", actor=None, detail={"token_id": token_id})
        raise AuthenticationError("the token is not valid (unknown or replaced)")
    if rec.revoked:
        record_refusal(settings, act=act, why="revoked user", actor=rec.name, detail={"token_id": token_id})
        raise AuthenticationError(f"user {rec.name!r} was revoked")
    return _user(rec)


def _check(settings: Settings, user: User, role: str, *, act: str) -> None:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if user.revoked:
        record_refusal(settings, act=act, why="revoked user", actor=user.name)
        raise AuthenticationError(f"user {user.name!r} was revoked")
    if user.role != role:
        record_refusal(settings, act=act, why=f"role {user.role}, needs {role}", actor=user.name)
        raise PermissionDenied(f"{act} needs the {role} role; {user.name!r} is a {user.role}")
    if role == "labeler" and (problem := user.certification_problem()):
        record_refusal(settings, act=act, why=f"labeler {problem}", actor=user.name)
        raise PermissionDenied(
            f"labeler {user.name!r} {problem}; an officer certifies with "
            f"`clearhouse users certify {user.name} --until YYYY-MM-DD`"
        )


def require(settings: Settings, token: str | None, role: str, *, act: str) -> User:
    """:func:`authenticate`, then check the role (and a labeler's certification). Refusals are recorded:
    :class:`AuthenticationError` (who are you?) or :class:`PermissionDenied` (not allowed)."""
    user = authenticate(settings, token, act=act)
    _check(settings, user, role, act=act)
    return user


def ensure(settings: Settings, user: User, role: str, *, act: str) -> User:
    """Re-check an acting user against the catalog as it is now (acts call this: a user revoked or a
    certification withdrawn after authentication is refused)."""
    try:
        current = _user(Catalog(settings.db_url).user(user.name))
    except CatalogError:
        record_refusal(settings, act=act, why="unknown user", actor=user.name)
        raise AuthenticationError(f"unknown user {user.name!r}") from None
    _check(settings, current, role, act=act)
    return current


# ------------------------------------------------------------------------------------------ officer acts
def _check_name_and_role(name: str, role: str, certified_until: date | None) -> None:
    if not NAME.fullmatch(name):
        raise ConfigError(f"invalid user name {name!r}: lower-case letters, digits, '.', '_', '-' (max 63)")
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if certified_until is not None and role != "labeler":
        raise ConfigError("--certified-until applies to labelers only")


def add_user(
    settings: Settings, name: str, role: str, *, by: User, certified_until: date | None = None
) -> tuple[User, str]:
    """An officer adds a user; returns the user and the token (shown once, never stored)."""
    _check_name_and_role(name, role, certified_until)
    ensure(settings, by, "officer", act="users add")
    if certified_until is not None and certified_until < datetime.now(UTC).date():
        raise ConfigError(f"--certified-until {certified_until.isoformat()} is in the past")
    return _add(settings, name, role, created_by=by.name, certified_until=certified_until)


def _add(
    settings: Settings, name: str, role: str, *, created_by: str, certified_until: date | None = None
) -> tuple[User, str]:
    token, token_id, token_hash = new_token()
    certified_by = created_by if certified_until is not None else None
    Catalog(settings.db_url).add_user(
        name=name,
        role=role,
        token_id=token_id,
        token_hash=token_hash,
        created_by=created_by,
        certified_until=certified_until,
        certified_by=certified_by,
    )
    detail: dict[str, Any] = {"user": name, "role": role, "token_id": token_id}
    if certified_until is not None:
        detail["certified_until"] = certified_until.isoformat()
    record_act(settings, "user_add", actor=created_by, detail=detail)
    return User(name, role, certified_until, certified_by, False), token


def certify(settings: Settings, name: str, until: date, *, by: User) -> User:
    """An officer (re)certifies a labeler until ``until`` (inclusive); recorded with the officer's name."""
    ensure(settings, by, "officer", act="users certify")
    catalog = Catalog(settings.db_url)
    rec = catalog.user(name)
    if rec.role != "labeler":
        raise ConfigError(f"{name!r} is a {rec.role}; only labelers are certified")
    if rec.revoked:
        raise ConfigError(f"{name!r} was revoked; add a new user instead")
    if until < datetime.now(UTC).date():
        raise ConfigError(f"--until {until.isoformat()} is in the past")
    catalog.update_user(name, certified_until=until, certified_by=by.name)
    record_act(settings, "user_certify", actor=by.name, detail={"user": name, "certified_until": until.isoformat()})
    return _user(catalog.user(name))


def revoke(settings: Settings, name: str, *, by: User) -> User:
    """An officer revokes a user: their token stops working at once. The last officer cannot be revoked
    (nobody could add users, approve or shred again)."""
    ensure(settings, by, "officer", act="users revoke")
    catalog = Catalog(settings.db_url)
    rec = catalog.user(name)
    if rec.revoked:
        return _user(rec)
    others = [u for u in catalog.users() if u.role == "officer" and not u.revoked and u.name != name]
    if rec.role == "officer" and not others:
        raise ConfigError(f"{name!r} is the last active officer; add another officer first")
    catalog.update_user(name, revoked=True)
    record_act(settings, "user_revoke", actor=by.name, detail={"user": name, "role": rec.role})
    return _user(catalog.user(name))


def reissue_token(settings: Settings, name: str, *, by: User) -> str:
    """An officer replaces a user's token (lost or leaked): the old one stops working at once."""
    ensure(settings, by, "officer", act="users token")
    catalog = Catalog(settings.db_url)
    rec = catalog.user(name)
    if rec.revoked:
        raise ConfigError(f"{name!r} was revoked; add a new user instead")
    token, token_id, token_hash = new_token()
    catalog.update_user(name, token_id=token_id, token_hash=token_hash)
    record_act(settings, "user_token", actor=by.name, detail={"user": name, "token_id": token_id})
    return token


def list_users(settings: Settings, *, by: User) -> list[User]:
    """Every user (revoked ones too), for an officer. Tokens and hashes are not part of :class:`User`."""
    ensure(settings, by, "officer", act="users list")
    return [_user(r) for r in Catalog(settings.db_url).users()]


def create_first_officer(settings: Settings, name: str = FIRST_OFFICER) -> Path | None:
    """``clearhouse init``: create the first officer when no active officer exists, and write its token
    once to ``CLEARHOUSE_HOME/first-officer.token`` (0600). Returns the file, or ``None`` when an
    officer already exists."""
    catalog = Catalog(settings.db_url)
    if any(u.role == "officer" and not u.revoked for u in catalog.users()):
        return None
    taken = {u.name for u in catalog.users()}
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}{n}"
    path = settings.home / FIRST_OFFICER_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a stale file from a revoked first officer
    _, token = _add(settings, candidate, "officer", created_by=SYSTEM)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return path
