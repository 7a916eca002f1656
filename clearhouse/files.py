"""Small file helpers shared by every layer: atomic writes, JSON, streaming SHA-256."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: files and folders Clearhouse creates are its owner's only (0600 / 0700): they hold data, keys, metadata, logs
PRIVATE_UMASK = 0o077


def make_private() -> None:
    """From now on, files and folders this process creates are private to its owner (0600 / 0700).

    Every entry point that writes under the state directory calls it (the CLI, DAG tasks, the runner),
    so nothing there depends on the umask of whoever started the process."""
    os.umask(PRIVATE_UMASK)


@contextmanager
def atomic_path(path: Path, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one rename (readers
    never see half a file), on failure it is removed. ``mode`` (e.g. 0o644 for a file meant to be shared,
such as a draft policy) replaces the private 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if mode is not None:
            tmp.chmod(mode)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str, mode: int = 0o600) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path, mode) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_json(path: Path, payload: Any, mode: int = 0o600) -> Path:
    """Write ``payload`` as indented JSON, atomically; private by default (stage results name files)."""
    return write_text_atomically(path, json.dumps(payload, indent=2, default=str), mode)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
