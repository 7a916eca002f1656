"""Request dependencies shared by the route modules: settings, the signed-in user, path parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Path, Request

from clearhouse.policy import SLUG
from clearhouse.settings import Settings
from clearhouse.web.security import Principal, principal
from clearhouse.zones import VERSION

DatasetId = Annotated[str, Path(pattern=SLUG.pattern, description="dataset id (policy slug)")]
VersionId = Annotated[str, Path(pattern=VERSION.pattern, description="version id, e.g. 20261125T101500Z-a1b2c3")]


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def signed_in(request: Request) -> Principal:
    """Any signed-in user (401 otherwise)."""
    return principal(app_settings(request), request)


def holding(role: str) -> Callable[[Request], Principal]:
    """A signed-in user holding ``role`` (401 without a session or token, 403 without the role)."""

    def dependency(request: Request) -> Principal:
        return principal(app_settings(request), request, role)

    dependency.__name__ = f"holding_{role}"
    return dependency
