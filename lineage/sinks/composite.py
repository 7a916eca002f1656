"""``composite`` sink: fans each event out to several sinks.

Every child is tried even when an earlier one fails; if any failed, one :class:`LineageError` naming
the failed children (and their exception types only) is raised afterwards, for the emitter to count.
Unlike the client's ``CompositeTransport`` it never stops at the first success.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attr
from openlineage.client.transport.transport import Config, Transport

from clearhouse.errors import LineageError
from clearhouse.lineage.sinks.registry import create_sinks

if TYPE_CHECKING:
    from openlineage.client.client import Event

__all__ = ["CompositeSink", "CompositeSinkConfig"]


@attr.define
class CompositeSinkConfig(Config):
    """The child sinks, already created."""

    sinks: list[Transport] = attr.field(factory=list)

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> CompositeSinkConfig:

        unknown = set(params) - {"sinks"}
        if unknown:
            raise ValueError(f"composite sink: unknown options {sorted(unknown)}")
        children = [
            child if isinstance(child, Transport) else create_sinks([child])[0]
            for child in params.get("sinks", [])
        ]
        return cls(sinks=children)


def _label(sink: Transport) -> str:
    return sink.name or sink.kind or type(sink).__name__


class CompositeSink(Transport):
    """Emit to every child sink; raise once at the end if any of them failed."""

    kind = "composite"
    config_class = CompositeSinkConfig

    def __init__(self, config: CompositeSinkConfig | Sequence[Transport]) -> None:
        if not isinstance(config, CompositeSinkConfig):
            config = CompositeSinkConfig(sinks=list(config))
        self.config = config

    @property
    def sinks(self) -> list[Transport]:
        """The child sinks, in emission order."""
        return self.config.sinks

    def emit(self, event: Event) -> None:
        failed: list[str] = []
        first: Exception | None = None
        for sink in self.sinks:
            try:
                sink.emit(event)
            except Exception as exc:
                failed.append(f"{_label(sink)} ({type(exc).__name__})")
                first = first or exc
        if failed:
            raise LineageError(
                f"{len(failed)} of {len(self.sinks)} lineage sinks failed: {', '.join(failed)}"
            ) from first

    def close(self, timeout: float = -1) -> bool:
        ok = True
        for sink in self.sinks:
            try:
                ok = sink.close(timeout) and ok
            except Exception:
                ok = False
        return ok
