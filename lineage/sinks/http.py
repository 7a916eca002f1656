"""``http`` sink: sends events to an OpenLineage backend (e.g. Marquez) with the client's HttpTransport.

The configuration is always explicit: the client is never allowed to read ``openlineage.yml`` or
``OPENLINEAGE_*`` variables to choose a transport. The API key is taken from ``api_key`` or, better, from
the environment variable named by ``api_key_env`` (keys come from the deployment, not from DAG
arguments). ``HttpTransport`` forces ``http.client`` debug logging off while it posts ("we can
potentially leak secrets to logs"); we never turn it on, and we expose no custom headers, because the
client logs its configuration, headers included, at DEBUG when constructed.

Retries are fewer than the client's default (5 with back-off): a task waits for lineage at most about
``timeout * (retries + 1)`` seconds plus back-off before the emitter gives up and counts a failure.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import attr
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
    TokenProvider,
)
from openlineage.client.transport.http_common import DEFAULT_RETRY_CONFIG
from openlineage.client.transport.transport import Config, Transport

if TYPE_CHECKING:
    from openlineage.client.client import Event

__all__ = ["HttpSink", "HttpSinkConfig"]

_OPTIONS = {"url", "endpoint", "timeout", "verify", "api_key", "api_key_env", "compression", "retries"}


@attr.define
class HttpSinkConfig(Config):
    """Explicit HTTP configuration. ``api_key`` is kept out of ``repr`` so it never reaches a log."""

    url: str
    endpoint: str = "api/v1/lineage"
    timeout: float = 5.0
    verify: bool = True
    api_key: str | None = attr.field(default=None, repr=False)
    compression: str | None = None
    retries: int = 2

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> HttpSinkConfig:
        unknown = set(params) - _OPTIONS
        if unknown:
            raise ValueError(f"http sink: unknown options {sorted(unknown)}")
        if not params.get("url"):
            raise ValueError("http sink needs a 'url'")
        api_key = params.get("api_key")
        if api_key is None and params.get("api_key_env"):
            api_key = os.environ.get(str(params["api_key_env"])) or None
        compression = params.get("compression")
        if compression is not None:
            compression = HttpCompression(compression).value  # validates early
        return cls(
            url=str(params["url"]),
            endpoint=str(params.get("endpoint", "api/v1/lineage")),
            timeout=float(params.get("timeout", 5.0)),
            verify=bool(params.get("verify", True)),
            api_key=api_key,
            compression=compression,
            retries=int(params.get("retries", 2)),
        )

    def to_http_config(self) -> HttpConfig:
        """The client's ``HttpConfig`` for these settings."""
        auth = ApiKeyTokenProvider({"apiKey": self.api_key}) if self.api_key else TokenProvider({})
        retries = max(self.retries, 0)
        return HttpConfig(
            url=self.url,
            endpoint=self.endpoint,
            timeout=self.timeout,
            verify=self.verify,
            auth=auth,
            compression=HttpCompression(self.compression) if self.compression else None,
            retry={**DEFAULT_RETRY_CONFIG, "total": retries, "read": retries, "connect": retries},
        )


class HttpSink(Transport):
    """POST events to an OpenLineage HTTP endpoint (Marquez: ``http://host:5000``)."""

    kind = "http"
    config_class = HttpSinkConfig

    def __init__(self, config: HttpSinkConfig) -> None:
        self.config = config
        # Construction does no network I/O; the session is opened on the first emit.
        self.transport = HttpTransport(config.to_http_config())

    def emit(self, event: Event) -> None:
        self.transport.emit(event)

    def close(self, timeout: float = -1) -> bool:
        return self.transport.close(timeout)
