"""``console`` sink: logs each serialised event at INFO on the ``lineage.sinks.console`` logger."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport

if TYPE_CHECKING:
    from openlineage.client.client import Event

__all__ = ["ConsoleSink", "ConsoleSinkConfig"]

log = logging.getLogger(__name__)


class ConsoleSinkConfig(Config):
    """The console sink takes no options."""

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> ConsoleSinkConfig:
        if params:
            raise ValueError(f"console sink takes no options, got {sorted(params)}")
        return cls()


class ConsoleSink(Transport):
    """Log events (already redacted when built) as compact JSON at INFO."""

    kind = "console"
    config_class = ConsoleSinkConfig

    def __init__(self, config: ConsoleSinkConfig | None = None) -> None:
        self.config = config or ConsoleSinkConfig()

    def emit(self, event: Event) -> None:
        log.info("%s", Serde.to_json(event))
