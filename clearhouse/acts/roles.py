"""Who may do privileged acts (decrypt, approve, shred). Roles live in ``CLEARHOUSE_HOME/roles.json``:
``{"officer": ["alice"], "labeler": ["bob"]}``. The actor is ``CLEARHOUSE_ACTOR`` or the OS user.

This is an embedded-default access model for a single host; a deployment maps the same role names to
its identity provider."""

from __future__ import annotations

import json
from pathlib import Path

from clearhouse.errors import ConfigError, ReleaseRefused
from clearhouse.governance.record import act
from clearhouse.settings import Settings

ROLES = ("officer", "labeler", "engineer")


def _path(settings: Settings) -> Path:
    return settings.home / "roles.json"


def load_roles(settings: Settings) -> dict[str, list[str]]:
    path = _path(settings)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must map role names to lists of users")
    return {str(k): [str(u) for u in v] for k, v in data.items() if isinstance(v, list)}


def grant(settings: Settings, role: str, user: str, *, actor: str | None = None) -> None:
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    roles = load_roles(settings)
    members = roles.setdefault(role, [])
    if user not in members:
        members.append(user)
    path = _path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(roles, indent=2), encoding="utf-8")
    path.chmod(0o600)
    act(settings, "grant_role", actor=actor or settings.current_actor, detail={"role": role, "user": user})


def require_role(settings: Settings, role: str) -> str:
    """Return the current actor if it holds ``role``; refuse otherwise."""
    actor = settings.current_actor
    if actor not in load_roles(settings).get(role, []):
        raise ReleaseRefused(
            f"{actor!r} does not hold the {role} role; a privacy officer must run this "
            f"(grant with `clearhouse roles grant {role} USER`)"
        )
    return actor
