"""``clearhouse`` command line (Typer): the same core functions the DAGs call.

One module per command group, registered explicitly below:

=================  ===========================================================
``pipeline``       init, sample, check-policy, run, demo, status (data engineer)
``labeler``        pull, available (certified labelers)
``officer``        approve, reject, decrypt, keys … (privacy officer)
``users``          users add|certify|revoke|token|list (privacy officer)
``assess``         assessment show|sign, review sample|submit (privacy officer)
``lineage``        lineage
``governance``     verify, trace (auditor)
``scan``           scan-text
``discover``       discover (data engineer: profile a new dataset, draft its policy)
``cluster``        cluster up|down|status, trigger (scale-out: Celery, REST API)
``serve``          serve (the web portal)
=================  ===========================================================

Exit codes (every command): 0 done; 1 refused or not cleared; 2 bad input or configuration (bad policy,
unknown dataset or version, missing file — nothing ran); 130 interrupted.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Annotated

import typer
from typer.exceptions import TyperException

from clearhouse.cli import (
    assess,
    cluster,
    discover,
    governance,
    labeler,
    lineage,
    officer,
    pipeline,
    scan,
    serve,
    users,
)
from clearhouse.cli._common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_REFUSED, err, out
from clearhouse.errors import AuthenticationError, ClearhouseError, PermissionDenied, ReleaseRefused
from clearhouse.files import make_private

app = typer.Typer(
    name="clearhouse",
    help="Clear collected datasets for labeling: detect, minimise, protect, validate, record. "
    "Exit codes: 0 done, 1 refused / not cleared, 2 bad input (nothing ran).",
    no_args_is_help=True,
    add_completion=False,
    # Rich tracebacks print local variables, which may hold personal data: never.
    pretty_exceptions_enable=False,
)


def _version() -> str:
    try:
        return package_version("clearhouse")
    except PackageNotFoundError:  # running from a checkout without an install
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        out(f"clearhouse {_version()}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Clearhouse: personal data never reaches a labeler."""


for _group in (pipeline, discover, labeler, officer, assess, users, lineage, governance, scan, cluster, serve):
    _group.register(app)


def _terminate(signum: int, _frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so a running `airflow dags test` child is stopped, not orphaned
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (documented in the module docstring)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    # Everything this process and its children (the Airflow run) write under the state directory —
    # data, catalog, ledger, keys, logs, reports — is private to its owner.
    make_private()
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=list(argv) if argv is not None else None, prog_name="clearhouse", standalone_mode=False
        )
    except (ReleaseRefused, AuthenticationError, PermissionDenied) as exc:
        err(f"refused: {exc}")
        return EXIT_REFUSED
    except ClearhouseError as exc:
        err(str(exc))
        return EXIT_BAD_INPUT
    except typer.Abort:
        err("interrupted")
        return EXIT_INTERRUPTED
    except TyperException as exc:  # usage errors: unknown command or option, missing or bad argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err("interrupted")
        return EXIT_INTERRUPTED
    code = result if isinstance(result, int) else 0
    if code == EXIT_INTERRUPTED:  # Typer turns KeyboardInterrupt (and our SIGTERM) into exit 130, silently
        err("interrupted")
    return code
