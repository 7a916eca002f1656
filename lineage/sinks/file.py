"""``file`` sink: appends each event as one JSON line to a local file.

Written with a single ``write`` on an ``O_APPEND`` descriptor, so lines from several processes (two
Airflow workers, a task and the CLI) do not interleave on a local file system. The file is created
with mode 0600: events hold no personal data, but paths and schemas are still internal information.
The client's own ``FileTransport`` is not used because it creates world-readable files and, without
``append``, one file per event.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attr
from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport

if TYPE_CHECKING:
    from openlineage.client.client import Event

__all__ = ["FileSink", "FileSinkConfig"]


@attr.define
class FileSinkConfig(Config):
    """Where to append events."""

    path: Path

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> FileSinkConfig:
        unknown = set(params) - {"path"}
        if unknown:
            raise ValueError(f"file sink: unknown options {sorted(unknown)}")
        if not params.get("path"):
            raise ValueError("file sink needs a 'path'")
        return cls(path=Path(params["path"]).expanduser())


class FileSink(Transport):
    """Append events as JSON lines to ``config.path`` (parent directories are created)."""

    kind = "file"
    config_class = FileSinkConfig

    def __init__(self, config: FileSinkConfig) -> None:
        self.config = config

    @property
    def path(self) -> Path:
        """The JSON-lines file events are appended to."""
        return self.config.path

    def emit(self, event: Event) -> None:
        line = (Serde.to_json(event) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            written = os.write(fd, line)
            # os.write may write less than asked on some file systems; finish the line in that case.
            while written < len(line):
                written += os.write(fd, line[written:])
        finally:
            os.close(fd)
