"""``openlineage`` sink: hands events to the OpenLineage client configured the standard way.

The client reads its transport as its documentation says: ``OPENLINEAGE_URL`` (and ``OPENLINEAGE_API_KEY``,
``OPENLINEAGE_ENDPOINT``), or ``OPENLINEAGE_CONFIG`` naming an ``openlineage.yml``, or an
``openlineage.yml`` in the working directory or ``~/.openlineage``. So a deployment that already
points its OpenLineage producers at a backend (Marquez, DataHub, …) gets Clearhouse's events there with
no Clearhouse-specific setting. The client is created once, at the first event, and only when one of
those is present (``Settings.openlineage_configured``). Events are redacted before they get here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openlineage.client.client import OpenLineageClient
from openlineage.client.transport.transport import Config, Transport

if TYPE_CHECKING:
    from openlineage.client.client import Event

__all__ = ["ClientSink", "ClientSinkConfig"]


class ClientSinkConfig(Config):
    """The client sink takes no options: the client's own configuration decides the transport."""

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> ClientSinkConfig:
        if params:
            raise ValueError(f"openlineage sink takes no options, got {sorted(params)}")
        return cls()


class ClientSink(Transport):
    kind = "openlineage"
    config_class = ClientSinkConfig

    def __init__(self, config: ClientSinkConfig | None = None) -> None:
        self.config = config or ClientSinkConfig()
        self._client: OpenLineageClient | None = None

    def emit(self, event: Event) -> None:
        if self._client is None:
            self._client = OpenLineageClient()
        self._client.emit(event)
