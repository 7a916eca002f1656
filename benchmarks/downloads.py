"""Memory and speed of the portal's streamed downloads, against building each file whole in memory.

A Parquet table of ``--rows`` sample support tickets (default 500,000) is written once; then each mode
runs in a fresh subprocess and consumes the download's bytes without
keeping them, as a web server sending them would:

Memory is the peak of Arrow's memory pool plus the peak of Python allocations (tracemalloc) during the
work; tracemalloc slows the Python-heavy JSON Lines path in both modes alike.

* streamed (ours, :mod:`clearhouse.acts.export`): Parquet, CSV and JSON Lines produced one record batch
  at a time;
* whole (baseline, same run): the table read at once and the whole file built in memory
  (``pq.write_table`` / ``pacsv.write_csv`` into a buffer, ``json.dumps`` of every row joined).

    .venv/bin/python benchmarks/downloads.py [--rows 500000]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FORMATS = ("parquet", "csv", "jsonl")


def _child(mode: str, fmt: str, path: str) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from clearhouse.acts import export

    columns = pq.read_schema(path).names
    # peak memory of the work itself: Arrow's memory pool (buffers, decoded columns) plus Python objects
    # (tracemalloc); the process's RSS is dominated by its imports and its high-water mark hides the rest
    pool = pa.default_memory_pool()
    arrow_before = pool.bytes_allocated()
    tracemalloc.start()
    started = time.perf_counter()
    total = 0
    if mode == "streamed":
        chunks = {"parquet": export._parquet, "csv": export._csv, "jsonl": export._jsonl}[fmt](path, columns)
        for chunk in chunks:
            total += len(chunk)
    else:
        table = pq.read_table(path)
        if fmt == "parquet":
            buf = io.BytesIO()
            pq.write_table(table, buf)
            total = len(buf.getvalue())
        elif fmt == "csv":
            buf = io.BytesIO()
            pacsv.write_csv(table, buf)
            total = len(buf.getvalue())
        else:
            body = "\n".join(json.dumps(export._jsonable(r), ensure_ascii=False) for r in table.to_pylist()) + "\n"
            total = len(body.encode("utf-8"))
    seconds = time.perf_counter() - started
    python_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    arrow_peak = pool.max_memory() - arrow_before
    peak_mb = (python_peak + arrow_peak) / 1e6
    print(json.dumps({"bytes": total, "seconds": seconds, "peak_mb": peak_mb, "arrow_mb": arrow_peak / 1e6}))


def _run(mode: str, fmt: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, fmt, str(path)], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FORMAT", "PATH"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    import pyarrow.parquet as pq

    from clearhouse.sample import generate_support_tickets

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "release.parquet"
        pq.write_table(generate_support_tickets(args.rows, seed=1), path)
        _run("streamed", "parquet", path)  # warm the page cache once
        print(f"downloads of {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB Parquet), fresh process each")
        print("peak memory of the work (Arrow pool + Python objects, tracemalloc), and rows per second")
        print(f"{'format':<8} {'streamed':>10} {'whole':>10} {'memory':>8} {'streamed':>12} {'whole':>12}")
        for fmt in FORMATS:
            s = _run("streamed", fmt, path)
            w = _run("whole", fmt, path)
            assert abs(s["bytes"] - w["bytes"]) / w["bytes"] < 0.05 or fmt == "parquet", (fmt, s, w)
            print(
                f"{fmt:<8} {s['peak_mb']:>7.0f} MB {w['peak_mb']:>7.0f} MB {w['peak_mb'] / s['peak_mb']:>7.1f}x "
                f"{args.rows / s['seconds']:>8,.0f} r/s {args.rows / w['seconds']:>8,.0f} r/s"
            )


if __name__ == "__main__":
    main()
