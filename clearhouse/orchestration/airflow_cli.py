"""Airflow's command line for the embedded runs, ending without the interpreter's final clean-up.

``airflow dags test`` holds Airflow, Presidio, spaCy and GX in one process; after the DAG run has
finished, Python spends about 3 seconds freeing that heap object by object before the process ends,
which every embedded run waits for. Here the normal shutdown runs as usual (non-daemon threads joined,
worker pools shut down, every ``atexit`` handler run, logs flushed) and then the process ends at once
with Airflow's exit code. Nothing is left unwritten: the metadata DB, the catalog and the ledger
commit per transaction long before.

Run as ``python -m clearhouse.orchestration.airflow_cli <airflow arguments>``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

_exit_code = 0


def _end_now() -> None:
    """Registered first, so it runs after every other ``atexit`` handler (they run last-in first-out)."""
    import logging  # noqa: PLC0415 - already imported by Airflow; only here to flush its handlers

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be written
            stream.flush()
    os._exit(_exit_code)


def _code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)  # what ``sys.exit("message")`` prints
    return 1


def main() -> None:
    """Airflow's ``main`` with this module's fast exit."""
    global _exit_code  # noqa: PLW0603 - the atexit handler reads the code Airflow exits with
    atexit.register(_end_now)
    from airflow.__main__ import main as airflow_main  # noqa: PLC0415 - after the handler is registered

    try:
        airflow_main()  # type: ignore[no-untyped-call]  # (Airflow's entry point is untyped)
    except SystemExit as exc:
        _exit_code = _code(exc.code)
    except BaseException:
        _exit_code = 1
        raise


if __name__ == "__main__":
    main()
