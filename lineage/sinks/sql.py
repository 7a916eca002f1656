"""``sql`` sink: records events in the :class:`lineage.store.LineageStore` (SQLite or PostgreSQL).

The store (and its ``CREATE TABLE``) is opened on the first emit, not when the sink is created, so an
unreachable database turns into a counted emit failure inside the task instead of an error at set-up.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import attr
from openlineage.client.transport.transport import Config, Transport

from clearhouse.lineage.store import LineageStore

if TYPE_CHECKING:
    from openlineage.client.client import Event
    from sqlalchemy.engine import Engine

__all__ = ["SqlSink", "SqlSinkConfig"]


@attr.define
class SqlSinkConfig(Config):
    """Either a database ``url``, an ``engine`` or an existing ``store`` (exactly one)."""

    url: str | None = attr.field(default=None, repr=False)  # may carry a password
    engine: Engine | None = attr.field(default=None, repr=False)
    store: LineageStore | None = attr.field(default=None, repr=False)

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> SqlSinkConfig:
        unknown = set(params) - {"url", "engine", "store"}
        if unknown:
            raise ValueError(f"sql sink: unknown options {sorted(unknown)}")
        given = [key for key in ("url", "engine", "store") if params.get(key) is not None]
        if len(given) != 1:
            raise ValueError("sql sink needs exactly one of 'url', 'engine' or 'store'")
        return cls(url=params.get("url"), engine=params.get("engine"), store=params.get("store"))


class SqlSink(Transport):
    """Write each event to the lineage store."""

    kind = "sql"
    config_class = SqlSinkConfig

    def __init__(self, config: SqlSinkConfig) -> None:
        self.config = config
        self._store = config.store
        self._lock = threading.Lock()

    @property
    def store(self) -> LineageStore:
        """The store, opened (and its tables created) on first use."""
        with self._lock:
            if self._store is None:
                target = self.config.engine if self.config.engine is not None else self.config.url
                if target is None:  # from_dict prevents this; direct construction may not
                    raise ValueError("sql sink has neither url, engine nor store")
                self._store = LineageStore(target)
            return self._store

    def emit(self, event: Event) -> None:
        self.store.add(event)

    def close(self, timeout: float = -1) -> bool:
        # Only a store this sink opened from a URL is closed here; a shared store belongs to its owner.
        if self._store is not None and self.config.store is None:
            self._store.close()
        return True
