"""Registry of lineage sinks by name: ``register_sink("sql", SqlSink)``, ``create_sink("sql", url=...)``.

A sink is an OpenLineage client ``Transport`` subclass (so ``OpenLineageClient(transport=sink)`` works)
with a ``config_class`` whose ``from_dict`` builds its configuration: the same contract as the
client's own ``transport/factory.py``. Policies name sinks by string; :func:`available_sinks` lets the
policy loader validate those names at load time.

Built-in sinks are registered by dotted path and imported on first use, so importing this module does
not import SQLAlchemy.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from openlineage.client.transport.transport import Config, Transport

from clearhouse.errors import LineageError

__all__ = ["available_sinks", "create_sink", "create_sinks", "register_sink"]

_REGISTRY: dict[str, type[Transport] | str] = {
    "sql": "clearhouse.lineage.sinks.sql.SqlSink",
    "file": "clearhouse.lineage.sinks.file.FileSink",
    "console": "clearhouse.lineage.sinks.console.ConsoleSink",
    "http": "clearhouse.lineage.sinks.http.HttpSink",
    "composite": "clearhouse.lineage.sinks.composite.CompositeSink",
    "openlineage": "clearhouse.lineage.sinks.client.ClientSink",
}


def register_sink(name: str, sink: type[Transport] | str, *, replace: bool = False) -> None:
    """Register a sink class (or its dotted path, imported on first use) under ``name``."""
    if not name:
        raise LineageError("a sink needs a non-empty name")
    if name in _REGISTRY and not replace:
        raise LineageError(f"lineage sink {name!r} is already registered")
    _REGISTRY[name] = sink


def available_sinks() -> list[str]:
    """Names of the registered sinks, sorted."""
    return sorted(_REGISTRY)


def _resolve(name: str) -> type[Transport]:
    try:
        entry = _REGISTRY[name]
    except KeyError:
        known = ", ".join(available_sinks())
        raise LineageError(f"unknown lineage sink {name!r}; known sinks are {known}") from None
    if isinstance(entry, str):
        module_name, _, attr_name = entry.rpartition(".")
        try:
            entry = getattr(importlib.import_module(module_name), attr_name)
        except (ImportError, AttributeError) as exc:
            raise LineageError(f"lineage sink {name!r} cannot be imported from {module_name}") from exc
    if not inspect.isclass(entry) or not issubclass(entry, Transport):
        raise LineageError(f"lineage sink {name!r} is not an OpenLineage Transport subclass")
    return entry


def create_sink(name: str, **config: Any) -> Transport:
    """Create the sink registered as ``name`` from keyword configuration.

    Raises :class:`LineageError` naming the sink when the name is unknown or the configuration is
    refused. Call this at set-up (policy load, CLI start), not in the middle of a task.
    """
    sink_class = _resolve(name)
    config_class = sink_class.config_class
    if not issubclass(config_class, Config):
        raise LineageError(f"lineage sink {name!r} has no OpenLineage Config class")
    try:
        sink = sink_class(config_class.from_dict(dict(config)))  # type: ignore[call-arg]
    except LineageError:
        raise
    except Exception as exc:
        raise LineageError(f"lineage sink {name!r}: invalid configuration ({type(exc).__name__})") from exc
    if not sink.name:
        sink.name = name
    return sink


def create_sinks(specs: Iterable[Mapping[str, Any]]) -> list[Transport]:
    """Create sinks from specs like ``{"type": "file", "path": "..."}`` (e.g. from policy YAML)."""
    sinks: list[Transport] = []
    for index, spec in enumerate(specs):
        params = dict(spec)
        kind = params.pop("type", None)
        if not isinstance(kind, str):
            raise LineageError(f"lineage sink #{index + 1} has no 'type'")
        sinks.append(create_sink(kind, **params))
    return sinks
