"""What every command module shares: exit codes, output helpers, settings, progress."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from clearhouse.acts.users import User, record_refusal, require, token_from_file
from clearhouse.errors import AuthenticationError
from clearhouse.settings import Settings, load_settings

#: Exit codes, the same for every command (documented in the README and in ``clearhouse --help``):
EXIT_OK = 0  # done (for `run`/`demo`: the version was cleared)
EXIT_REFUSED = 1  # ran, but refused or not cleared (quarantined, awaiting approval, wrong role, ...)
EXIT_BAD_INPUT = 2  # bad input or configuration: bad policy, unknown dataset or version, missing file; nothing ran
EXIT_INTERRUPTED = 130

JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON document on stdout (for scripts)")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="no progress on stderr")]
TokenFileOption = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help="file holding your API token (mode 0600; default: the CLEARHOUSE_TOKEN variable)",
        show_default=False,
    ),
]

_err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def out(msg: str = "") -> None:
    sys.stdout.write(msg + "\n")


def err(msg: str) -> None:
    sys.stderr.write(f"clearhouse: {msg}\n")


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def settings() -> Settings:
    """The process settings (read once per command; ``ConfigError`` on a bad variable → exit 2)."""
    return load_settings()


def token(s: Settings, token_file: Path | None, *, act: str) -> str | None:
    """The caller's token: ``--token-file`` (refused, and recorded, when group/others can read it or it
    cannot be read) or ``CLEARHOUSE_TOKEN``."""
    if token_file is not None:
        try:
            return token_from_file(token_file)
        except AuthenticationError:
            record_refusal(s, act=act, why="unusable token file")
            raise
    return s.token.get_secret_value() if s.token is not None else None


def acting(s: Settings, token_file: Path | None, role: str, *, act: str) -> User:
    """Authenticate the caller and check the role the act needs (refusals are recorded; exit 1)."""
    return require(s, token(s, token_file, act=act), role, act=act)


def show_progress(quiet: bool) -> bool:
    """Progress goes to stderr, only to a terminal, and never with ``--quiet``."""
    return not quiet and sys.stderr.isatty()


class _RateColumn(ProgressColumn):
    """Items per second, from rich's own speed estimate."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else f"- {self.unit}/s", style="progress.data.speed")


@contextmanager
def progress(description: str, total: int | None, *, unit: str, enabled: bool) -> Iterator[Progress | None]:
    """A progress bar on stderr: items done of total, rate, elapsed and time left. ``None`` when off."""
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(unit),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=_err_console,
        transient=False,
    )
    with bar:
        bar.add_task(description, total=total)
        yield bar


class StageProgress:
    """Follows an ``airflow dags test`` run line by line: which task runs, how many are done."""

    def __init__(self, tasks: tuple[str, ...], *, enabled: bool) -> None:
        self.tasks = tasks
        self.enabled = enabled
        self.started = time.monotonic()
        self._bar: Progress | None = None
        self._done = 0

    def __enter__(self) -> StageProgress:
        if self.enabled:
            self._bar = Progress(
                TextColumn("{task.description:<22}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("tasks"),
                TimeElapsedColumn(),
                console=_err_console,
            )
            self._bar.__enter__()
            self._bar.add_task("starting Airflow", total=len(self.tasks))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def task_started(self, task_id: str) -> None:
        if self._bar is None:
            return
        if task_id in self.tasks:
            self._done = self.tasks.index(task_id)
        self._bar.update(self._bar.task_ids[0], completed=self._done, description=f"task {task_id}")
