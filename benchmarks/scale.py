"""Peak memory and rows/s of a whole ``clearhouse run`` as the input grows (structured-only tickets).

For each size (default 100k, 1M and 5M rows) the benchmark writes a structured-only sample table — the
sample support tickets of :mod:`clearhouse.sample` without the free-text ``message`` column, generated in
chunks with ticket ids kept unique — as CSV, and a policy that is ``datasets/support_tickets.yaml``
without ``message`` (and without the expectations naming it). Each size runs in a fresh state directory:
``clearhouse init`` first (not timed), then ``clearhouse run`` in a child process, timed and measured:

* ``tree peak``: the largest sum of the resident set sizes of the run's whole process tree (the CLI,
  ``airflow dags test`` and anything they start), sampled from ``/proc`` every 0.2 s;
* ``largest``: the peak RSS of the single largest process of the tree (``getrusage(RUSAGE_CHILDREN)``
  after the child is waited for — the kernel's own figure, not sampled);
* rows/s: input rows over the wall time of ``clearhouse run`` (Airflow start-up, every stage, the gate,
  the ledger).

The baseline is the smallest size of the same run: the table prints each size's peak against it and
the growth per million rows between the two largest sizes. It measures the code next to it
(``REPO`` is put first on ``PYTHONPATH`` of the children), so a copy of this file in another checkout
measures that checkout with the same method.

    .venv/bin/python benchmarks/scale.py [--sizes 100k,1M,5M] [--keep DIR]

With ``--mixed-rows N`` it also clears a mixed table (with free text) of N rows, in chunks of
``--mixed-chunk-rows`` (default 500), on a fresh local Celery cluster (``clearhouse cluster up``: its own
databases ``chscale_wN_*`` on the local PostgreSQL, dropped afterwards, its API on ``--api-port``) with 1
and with 2 workers (``--workers 1,2``), timing ``clearhouse trigger --wait`` alone, and prints the
speed-up over one worker (:func:`cluster_runs`). ``--sizes ''`` skips the structured runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
POLICY = REPO / "datasets" / "support_tickets.yaml"
TEXT_COLUMN = "message"
DATASET = "scale_tickets"
_CHUNK = 50_000
#: a fixed development master key: the benchmark's state directories are thrown away
DEV_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="


def parse_size(text: str) -> int:
    units = {"k": 1_000, "m": 1_000_000}
    text = text.strip().lower()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def child_env(home: Path, datasets: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARHOUSE_", "AIRFLOW"))}
    env.update({
        "CLEARHOUSE_HOME": str(home),
        "CLEARHOUSE_SUITES": str(home / "suites"),
        "CLEARHOUSE_DATASETS": str(datasets),
        "CLEARHOUSE_MASTER_KEY": os.environ.get("CLEARHOUSE_MASTER_KEY", DEV_KEY),
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    })
    return env


# ------------------------------------------------------------------------------------------ inputs
def write_policy(path: Path, source: Path, *, with_text: bool, dataset: str = DATASET) -> Path:
    """The sample policy for ``source``; without ``message`` unless ``with_text``."""
    import yaml

    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data["id"] = dataset
    data["source"] = {"path": str(source), "format": "csv"}
    if not with_text:
        del data["columns"][TEXT_COLUMN]
        data["expectations"] = [e for e in data.get("expectations", [])
                                if TEXT_COLUMN not in (e.get("column"), *e.get("column_list", []))]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_tickets(rows: int, out: Path, *, with_text: bool) -> None:
    """The sample tickets as CSV, generated in chunks (ticket ids stay unique across chunks)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from clearhouse.sample import generate_support_tickets

    writer = None
    try:
        for i, start in enumerate(range(0, rows, _CHUNK)):
            n = min(_CHUNK, rows - start)
            table = generate_support_tickets(n, seed=7 + i)
            ids = pa.array([f"T{100000 + start + j}" for j in range(n)], type=pa.string())
            table = table.set_column(table.schema.get_field_index("ticket_id"), "ticket_id", ids)
            if not with_text:
                table = table.drop_columns([TEXT_COLUMN])
            if writer is None:
                writer = pacsv.CSVWriter(out, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


# -------------------------------------------------------------------------------------- measuring
def _tree_rss_kb(root: int) -> tuple[int, int]:
    """(sum, largest) resident set size in kB of ``root`` and its descendants, read from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text(encoding="utf-8")
            pages = int((proc / "statm").read_text(encoding="utf-8").split()[1])
        except (OSError, ValueError, IndexError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(proc.name))
        rss[int(proc.name)] = pages * page_kb
    todo, total, largest = [root], 0, 0
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        largest = max(largest, rss.get(pid, 0))
        todo += children.get(pid, [])
    return total, largest


@dataclass
class Measured:
    returncode: int
    seconds: float
    tree_peak_mb: float
    largest_mb: float
    stdout: str
    stderr: str


def measure(argv: list[str], env: dict[str, str], interval: float = 0.2) -> Measured:
    """Run ``argv``; sample its process tree's RSS until it exits."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid)[0])
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    # the largest of any waited-for descendant so far: sizes run smallest first, so it is this run's
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return Measured(proc.returncode, seconds, peak[0] / 1024, largest / 1024, stdout, stderr)


def whole_run(rows: int, base: Path, *, with_text: bool = False) -> dict[str, Any]:
    """Generate, init (untimed), then one measured ``clearhouse run`` in a fresh state directory."""
    work = base / f"run-{rows}"
    shutil.rmtree(work, ignore_errors=True)
    home, datasets = work / "state", work / "datasets"
    src = work / "tickets.csv"
    work.mkdir(parents=True)
    datasets.mkdir()
    t0 = time.perf_counter()
    write_tickets(rows, src, with_text=with_text)
    gen = time.perf_counter() - t0
    policy = write_policy(datasets / f"{DATASET}.yaml", src, with_text=with_text)
    env = child_env(home, datasets)
    cli = [sys.executable, "-m", "clearhouse"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
    m = measure([*cli, "run", str(policy), "--source", str(src), "--quiet", "--json"], env)
    try:
        doc = json.loads(m.stdout)
        state = str(doc.get("state"))
        reasons = "; ".join(r.get("message", "") for r in doc.get("reasons") or [])
    except ValueError:
        state, reasons = f"error {m.returncode}", (m.stderr.strip().splitlines() or [""])[-1]
    return {"rows": rows, "seconds": m.seconds, "rows_per_s": rows / m.seconds, "tree_peak_mb": m.tree_peak_mb,
            "largest_mb": m.largest_mb, "state": state, "reasons": reasons, "generate_seconds": gen,
            "input_mb": src.stat().st_size / 1e6}


def print_table(results: list[dict[str, Any]]) -> None:
    base = results[0]
    print(f"{'rows':>10}  {'input MB':>8}  {'wall s':>8}  {'rows/s':>8}  {'tree peak MB':>12}  {'largest MB':>10}  "
          f"{'vs ' + format(base['rows'], ','):>12}  state")
    for r in results:
        print(f"{r['rows']:>10,}  {r['input_mb']:>8.0f}  {r['seconds']:>8.1f}  {r['rows_per_s']:>8.0f}  "
              f"{r['tree_peak_mb']:>12.0f}  {r['largest_mb']:>10.0f}  "
              f"{r['tree_peak_mb'] / base['tree_peak_mb']:>11.2f}x  {r['state']}"
              + (f"  ({r['reasons'][:160]})" if r["reasons"] else ""))
    if len(results) >= 2:
        a, b = results[-2], results[-1]
        per_m = (b["tree_peak_mb"] - a["tree_peak_mb"]) / ((b["rows"] - a["rows"]) / 1e6)
        print(f"growth of the tree peak from {a['rows']:,} to {b['rows']:,} rows: {per_m:+.0f} MB per million rows")


# ------------------------------------------------------------------------------- Celery workers
def _drop_databases(prefix: str) -> None:
    """Remove the benchmark cluster's databases from the local PostgreSQL (they are throwaway)."""
    from sqlalchemy import create_engine, text

    from clearhouse.settings import load_settings

    engine = create_engine(load_settings().cluster_pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for db in (f"{prefix}_airflow", f"{prefix}_catalog"):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
    engine.dispose()


def cluster_run(rows: int, workers: int, base: Path, *, chunk_rows: int, port: int) -> dict[str, Any]:
    """Clear a mixed table (with free text) of ``rows`` rows on a fresh local Celery cluster of
    ``workers`` workers (``clearhouse cluster up``; each worker runs one task at a time): the wall time
    of ``clearhouse trigger --wait`` and which worker ran each chunk. Start-up and tear-down untimed."""
    work = base / f"cluster-{workers}"
    shutil.rmtree(work, ignore_errors=True)
    home, datasets = work / "state", work / "datasets"
    datasets.mkdir(parents=True)
    src = base / f"mixed-{rows}.csv"
    if not src.exists():
        write_tickets(rows, src, with_text=True)
    policy = write_policy(datasets / "scale_mixed.yaml", src, with_text=True, dataset="scale_mixed")
    prefix = f"chscale_w{workers}"
    env = child_env(home, datasets)
    env.update({"CLEARHOUSE_CLUSTER_WORKERS": str(workers), "CLEARHOUSE_CLUSTER_DB_PREFIX": prefix,
                "CLEARHOUSE_CLUSTER_API_PORT": str(port), "CLEARHOUSE_CHUNK_ROWS": str(chunk_rows)})
    cli = [sys.executable, "-m", "clearhouse"]
    _drop_databases(prefix)
    try:
        subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
        up = subprocess.run([*cli, "cluster", "up"], env=env, capture_output=True, text=True, check=False)
        if up.returncode != 0:
            raise RuntimeError(f"cluster up failed: {up.stdout[-2000:]}{up.stderr[-2000:]}")
        t0 = time.perf_counter()
        out = subprocess.run([*cli, "trigger", str(policy), "--source", str(src), "--wait", "--json"],
                             env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t0
    finally:
        subprocess.run([*cli, "cluster", "down"], env=env, capture_output=True, check=False)
        _drop_databases(prefix)
    try:
        doc = json.loads(out.stdout)
    except ValueError:
        raise RuntimeError(f"trigger failed (exit {out.returncode}): {out.stderr[-2000:]}") from None
    tis = doc.get("task_instances") or []
    hosts = {t["task_id"]: sorted({str(x.get("hostname")) for x in tis if x["task_id"] == t["task_id"]}) for t in tis}
    chunks = sum(1 for t in tis if t["task_id"] == "detect")
    return {"workers": workers, "rows": rows, "seconds": seconds, "rows_per_s": rows / seconds,
            "state": doc.get("state"), "chunks": chunks, "detect_hosts": hosts.get("detect", []),
            "reasons": "; ".join(str(r.get("message")) for r in doc.get("reasons") or [])}


def cluster_runs(rows: int, counts: list[int], base: Path, *, chunk_rows: int, port: int) -> None:
    """The speed-up of N Celery workers over one, clearing the same mixed table."""
    print(f"\nmixed table (with free text), {rows:,} rows in chunks of {chunk_rows:,}, on the local Celery "
          f"cluster; {os.cpu_count()} CPUs shared with the cluster's scheduler, API server and other work")
    results = []
    for workers in counts:
        r = cluster_run(rows, workers, base, chunk_rows=chunk_rows, port=port)
        results.append(r)
        print(f"  {workers} worker(s): {r['seconds']:.1f}s, {r['rows_per_s']:.0f} rows/s, {r['state']}; "
              f"{r['chunks']} detect tasks ran on {', '.join(r['detect_hosts'])}"
              + (f" ({r['reasons'][:200]})" if r["reasons"] else ""), flush=True)
    one = results[0]
    for r in results[1:]:
        print(f"speed-up of {r['workers']} workers over {one['workers']}: {one['seconds'] / r['seconds']:.2f}x "
              f"({one['rows_per_s']:.0f} → {r['rows_per_s']:.0f} rows/s)")
    by = {r["workers"]: r["seconds"] for r in results}
    if 1 in by and 2 in by:
        # Amdahl from the two runs: T(N) = S + W/N, so W = 2 (T1 - T2) and S = T1 - W
        parallel = 2 * (by[1] - by[2])
        serial = by[1] - parallel
        text = (f"model T(N) = S + W/N from these runs: serial S = {serial:.0f}s (prepare, ingest, merge + gate, "
                f"release, scheduling), parallel W = {parallel:.0f}s (the chunks)")
        if serial > 0 and parallel > 0:
            predicted = ", ".join(
                f"{n} workers {(serial + parallel) / (serial + parallel / n):.2f}x" for n in (2, 4, 8)
            )
            text += f"; predicted speed-up {predicted}, never above {(serial + parallel) / serial:.2f}x"
        print(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100k,1M,5M", help="comma-separated row counts (k/M suffixes)")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    parser.add_argument("--mixed-rows", type=parse_size, default=0,
                        help="also clear a mixed table of this many rows on the local Celery cluster (0: skip)")
    parser.add_argument("--workers", default="1,2", help="Celery worker counts to compare (with --mixed-rows)")
    parser.add_argument("--mixed-chunk-rows", type=parse_size, default=500, help="chunk size of the mixed runs")
    parser.add_argument("--api-port", type=int, default=18931, help="port of the benchmark cluster's API server")
    args = parser.parse_args(argv)
    sizes = sorted(parse_size(s) for s in args.sizes.split(",") if s.strip())
    print(f"clearhouse run, structured-only sample tickets ({REPO}); {os.cpu_count()} CPUs shared with "
          "other work on this machine")
    base = args.keep or Path(tempfile.mkdtemp(prefix="clearhouse-scale-"))
    results = []
    try:
        for rows in sizes:
            r = whole_run(rows, base)
            results.append(r)
            print(f"  {rows:>10,} rows: {r['seconds']:.1f}s, tree peak {r['tree_peak_mb']:.0f} MB, "
                  f"largest process {r['largest_mb']:.0f} MB, {r['state']}", flush=True)
            if args.keep is None:
                shutil.rmtree(base / f"run-{rows}", ignore_errors=True)
        if results:
            print_table(results)
        if args.mixed_rows:
            counts = [int(w) for w in args.workers.split(",") if w.strip()]
            cluster_runs(args.mixed_rows, counts, base, chunk_rows=args.mixed_chunk_rows, port=args.api_port)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
