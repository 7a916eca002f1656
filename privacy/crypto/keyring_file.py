"""The keyring file on disk: private mode, exclusive lock, atomic replace.

Readers never lock: every write replaces the whole file with ``os.replace``, so a reader sees either the
old or the new document, never half of one. Writers take an exclusive ``fcntl.flock`` on a separate
``keyring.lock`` file (locking the data file itself would not work, because replacing it swaps the inode
the lock is on), re-read the document inside the lock, change it and replace it. ``flock`` locks belong
to an open file description, so this serialises threads of one process as well as separate processes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clearhouse.errors import KeyringError
from clearhouse.privacy.crypto.root_key import check_private_file

KEYRING_FILE = "keyring.json"
LOCK_FILE = "keyring.lock"


class KeyringFile:
    """Reads and atomically rewrites ``<keys_dir>/keyring.json`` under a file lock."""

    def __init__(self, keys_dir: Path, *, lock_timeout: float = 30.0) -> None:
        self.keys_dir = keys_dir
        self.path = keys_dir / KEYRING_FILE
        self.lock_path = keys_dir / LOCK_FILE
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"KeyringFile({str(self.path)!r})"

    # ------------------------------------------------------------------------------------ reading

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> dict[str, Any] | None:
        """The parsed document, or ``None`` if the keyring does not exist yet."""
        try:
            check_private_file(self.path, "keyring")
        except FileNotFoundError:
            return None
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyringError(f"cannot read keyring {self.path}: {exc.strerror}") from exc
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            # line/column only: the document holds wrapped keys, which must not reach a log either
            raise KeyringError(f"keyring {self.path} is not valid JSON (line {exc.lineno})") from exc
        if not isinstance(doc, dict):
            raise KeyringError(f"keyring {self.path} is not a JSON object")
        return doc

    # ------------------------------------------------------------------------------------ writing

    def check_dir(self) -> None:
        """Refuse a keys directory that group/others can write (if it exists)."""
        if self.keys_dir.exists():
            self._check_dir_mode()

    def _ensure_dir(self) -> None:
        self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._check_dir_mode()

    def _check_dir_mode(self) -> None:
        mode = stat.S_IMODE(self.keys_dir.stat().st_mode)
        if mode & 0o022:
            # whoever can write the directory can replace the keyring with one of their own
            raise KeyringError(
                f"keys directory {self.keys_dir} has mode {mode:04o}: group/others can write it; "
                f"run: chmod 700 {self.keys_dir}"
            )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_dir()
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise KeyringError(f"cannot lock keyring {self.lock_path}: {exc.strerror}") from exc
                    if time.monotonic() > deadline:
                        raise KeyringError(
                            f"keyring {self.path} stayed locked by another task for {self.lock_timeout:.0f}s"
                        ) from exc
                    time.sleep(0.005)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """Lock, yield the current document (``{}`` if none) for in-place change, then write it atomically.

        If the block raises, nothing is written. If the block leaves the document unchanged, nothing is
        written either (a retried ``create_data_key`` does not touch the file).
        """
        with self._locked():
            doc = self.read() or {}
            before = json.dumps(doc, sort_keys=True)
            yield doc
            if json.dumps(doc, sort_keys=True) != before:
                self._write(doc)

    def _write(self, doc: dict[str, Any]) -> None:
        # mkstemp creates the file 0600 (whatever the umask), so the keyring is never briefly readable
        fd, tmp_name = tempfile.mkstemp(dir=self.keys_dir, prefix=".keyring.", suffix=".tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(doc, handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(self.path)  # atomic rename (os.replace)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        # make the rename itself durable: a crash must not bring back a keyring holding a shredded key
        dir_fd = os.open(self.keys_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
