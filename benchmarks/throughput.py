"""Throughput of detect + minimise on the sample support-tickets table, against vanilla Presidio.

Clearhouse: ``detect_table`` + ``minimise_table`` over a Parquet file of ``--rows`` rows (default 20,000)
with the ``datasets/support_tickets.yaml`` policy — once with the free-text ``message`` column and once
without it. Each run happens in a fresh subprocess so its peak RSS is clean; the 200,000-row memory check
(``--memory-rows``) runs the same way.

Vanilla: Presidio ``BatchAnalyzerEngine`` + ``BatchAnonymizerEngine`` (default recognizers, the same
spaCy model) over the first ``--vanilla-rows`` rows (default 1,000), reported as rows/s.

Recall on the table: gold mentions are the row's own personal values (name, first/last name, email,
phone, address, date of birth as written, order and account numbers) found inside its message; a mention
counts as found when a predicted span overlaps it. Both detectors are scored on the vanilla subset.

Whole run: ``clearhouse run`` of ``--whole-run-rows`` sample tickets (default 50,000, as issue #10 measures
it) in a fresh state directory — Airflow, every stage, the gate, the ledger — with the seconds of each task
read from the run's Airflow log. Vanilla's mixed rate is measured again right after it (it swings by
about ±15% between runs here), and the whole run's ratio is printed against both.

NER floor: the spaCy model alone (only its ``ner`` pipe) over the message column with ``nlp.pipe``.

Long cells: one free-text cell of 10 kB, 1 MB and 10 MB (a pasted text repeating one sentence with a
name, an email and a phone number, each repetition numbered so that no two windows are the same text —
the detector reads a repeated string once), detected with the model and with patterns only; seconds per MB
should stay flat as the cell grows. ``--long-cell-sample-mb`` times only that many MB of the largest
cell(s) and says so; ``--long-cells-only`` skips the table benchmarks.

    .venv/bin/python benchmarks/throughput.py [--rows 20000] [--vanilla-rows 1000] [--memory-rows 200000]
        [--whole-run-rows 50000] [--long-cells 10k,1M,10M] [--long-cell-sample-mb N] [--long-cells-only]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

POLICY = REPO / "datasets" / "support_tickets.yaml"
TEXT_COLUMN = "message"
_CHUNK = 20_000


def peak_rss_mb() -> float:
    """Peak resident set size of this process and of its (waited-for) children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def write_table(rows: int, path: Path, *, with_text: bool) -> None:
    """Write the sample table in chunks (so generating it does not dominate memory)."""
    import pyarrow.parquet as pq

    from clearhouse.sample import generate_support_tickets

    writer = None
    try:
        for i, start in enumerate(range(0, rows, _CHUNK)):
            table = generate_support_tickets(min(_CHUNK, rows - start), seed=7 + i)
            if not with_text:
                table = table.drop_columns([TEXT_COLUMN])
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def load_policy(with_text: bool) -> Any:
    import yaml

    from clearhouse.policy import Policy

    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    if not with_text:
        del data["columns"][TEXT_COLUMN]
        data["expectations"] = [e for e in data.get("expectations", [])
                                if TEXT_COLUMN not in (e.get("column"), *e.get("column_list", []))]
    return Policy.model_validate(data)


# --------------------------------------------------------------------------------- one measured run
def run_clearhouse(rows: int, with_text: bool) -> dict[str, Any]:
    """Generate, then time detect + minimise (model load and worker start-up excluded)."""
    from clearhouse.privacy.detection.scan import detect_table
    from clearhouse.privacy.detection.text import PresidioTextDetector
    from clearhouse.privacy.minimise import minimise_table
    from clearhouse.settings import load_settings

    policy = load_policy(with_text)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.parquet"
        # generate in a child so the data's Python objects do not count towards this process's peak
        subprocess.run([sys.executable, __file__, "--_write", str(rows), str(src), "1" if with_text else "0"],
                       check=True)
        warm = Path(tmp) / "warm.parquet"
        subprocess.run([sys.executable, __file__, "--_write", "600", str(warm), "1" if with_text else "0"],
                       check=True)
        detector = PresidioTextDetector(policy.detection, load_settings().spacy_model)
        # warm-up outside the timing, as for vanilla (whose model is loaded before timing): start the
        # workers and let phonenumbers, pyarrow and the regex caches load once
        detect_table(warm, policy, detector, out_dir=Path(tmp) / "warm")
        base = dict(detector.stats)
        t0 = time.perf_counter()
        result = detect_table(src, policy, detector, out_dir=Path(tmp) / "work")
        t_detect = time.perf_counter() - t0
        minimise_table(src, policy, spans_path=result.spans_path, out_path=Path(tmp) / "min.parquet")
        elapsed = time.perf_counter() - t0
        detector.close()
        return {
            "rows": rows, "with_text": with_text, "seconds": elapsed, "detect_seconds": t_detect,
            "rows_per_s": rows / elapsed, "peak_rss_mb": peak_rss_mb(),
            "ner_texts": detector.stats["ner_texts"] - base["ner_texts"],
            "texts": detector.stats["texts"] - base["texts"], "blocking": len(result.blocking),
        }


def in_subprocess(rows: int, with_text: bool) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--_run", str(rows), "1" if with_text else "0"],
                         check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# --------------------------------------------------------------------------------------- vanilla
def vanilla(rows: int, with_text: bool) -> tuple[dict[str, Any], list[list[tuple[int, int]]]]:
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_anonymizer import BatchAnonymizerEngine

    from clearhouse.privacy.detection.offline import ensure_offline
    from clearhouse.sample import generate_support_tickets
    from clearhouse.settings import load_settings

    ensure_offline()
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": load_settings().spacy_model}])
    engine.load()
    analyzer = BatchAnalyzerEngine(analyzer_engine=AnalyzerEngine(nlp_engine=engine))
    anonymizer = BatchAnonymizerEngine()
    table = generate_support_tickets(rows)
    if not with_text:
        table = table.drop_columns([TEXT_COLUMN])
    data = {name: table.column(name).to_pylist() for name in table.column_names}
    t0 = time.perf_counter()
    results = list(analyzer.analyze_dict(data, language="en"))
    anonymizer.anonymize_dict(results)
    elapsed = time.perf_counter() - t0
    spans: list[list[tuple[int, int]]] = []
    for res in results:
        if res.key == TEXT_COLUMN:
            spans = [[(r.start, r.end) for r in row] for row in res.recognizer_results]  # type: ignore[union-attr]
    return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed}, spans


# ---------------------------------------------------------------------------------------- recall
def gold_mentions(rows: int) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """The row's own personal values as they occur in its message (see the module docstring)."""
    from clearhouse.sample import generate_support_tickets

    table = generate_support_tickets(rows).to_pylist()
    texts, gold = [], []
    for row in table:
        text = row[TEXT_COLUMN]
        first, last = row["customer_name"].split(" ", 1)
        values = {row["customer_name"], first, last, row["email"], row["phone"], row["street_address"]}
        found: list[tuple[int, int]] = []
        for v in sorted(values, key=len, reverse=True):
            for m in re.finditer(re.escape(v), text, re.IGNORECASE):
                if not any(s < m.end() and m.start() < e for s, e in found):
                    found.append(m.span())
        for m in re.finditer(r"\b(?:ORD|ord|A)-\d{6}\b|\b\d{8}\b|\b\d{2} [A-Z][a-z]+ \d{4}\b", text):
            if not any(s < m.end() and m.start() < e for s, e in found):
                found.append(m.span())
        texts.append(text)
        gold.append(found)
    return texts, gold


def recall(gold: list[list[tuple[int, int]]], pred: list[list[tuple[int, int]]]) -> float:
    total = sum(len(g) for g in gold)
    hit = sum(1 for g, p in zip(gold, pred, strict=True) for s, e in g if any(ps < e and s < pe for ps, pe in p))
    return hit / total if total else 1.0


def whole_run(rows: int) -> dict[str, Any]:
    """A whole ``clearhouse run`` (Airflow, every stage, the gate, the ledger) over ``rows`` sample
    tickets in a fresh state directory: wall time of the run command alone."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "state"
        env = {**os.environ, "CLEARHOUSE_HOME": str(home), "CLEARHOUSE_SUITES": str(home / "suites")}
        env.setdefault("CLEARHOUSE_MASTER_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        env.pop("CLEARHOUSE_DB_URL", None)
        cli = [sys.executable, "-m", "clearhouse"]
        src = Path(tmp) / "tickets.csv"
        subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
        subprocess.run([*cli, "sample", "support-tickets", "--rows", str(rows), "--out", str(src)],
                       env=env, check=True, capture_output=True)
        t0, started = time.perf_counter(), time.time()
        out = subprocess.run([*cli, "run", str(POLICY), "--source", str(src), "--quiet", "--json"],
                             env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t0
        ended = started + seconds
        done = json.loads(out.stdout) if out.stdout.strip().startswith("{") else {}
        state = done.get("state", f"error {out.returncode}")
        tasks = task_seconds(Path(done["log"])) if done.get("log") else {}
        if tasks:  # Airflow's start-up before the first task, and the end after the last one
            first, last = tasks.pop("_first"), tasks.pop("_last")
            tasks = {"start-up": first - started, **tasks, "end": ended - last}
        return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "state": state, "tasks": tasks}


_TASK_LINE = re.compile(r"^(\S+Z) .*\[DAG TEST\] (starting|end task) task_id=(\w+)")


def task_seconds(log: Path) -> dict[str, float]:
    """Seconds per task of a run (mapped tasks summed) from ``airflow dags test``'s log, plus the first
    start (``_first``) and the last end (``_last``) as epoch seconds."""
    from datetime import datetime

    out: dict[str, float] = {}
    begun: dict[str, float] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _TASK_LINE.match(line)
        if not m:
            continue
        at = datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
        out.setdefault("_first", at)
        if m.group(2) == "starting":
            begun[m.group(3)] = at
        elif m.group(3) in begun:
            out[m.group(3)] = out.get(m.group(3), 0.0) + at - begun.pop(m.group(3))
            out["_last"] = at
    return out


def ner_floor(rows: int) -> dict[str, float]:
    from clearhouse.privacy.detection.ner import load_ner
    from clearhouse.sample import generate_support_tickets
    from clearhouse.settings import load_settings

    nlp = load_ner(load_settings().spacy_model)
    texts = generate_support_tickets(rows).column(TEXT_COLUMN).to_pylist()
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=256):
        pass
    one = rows / (time.perf_counter() - t0)
    return {"msgs_per_s_1proc": one, "msgs_per_s_all_cores_ideal": one * (os.cpu_count() or 1)}


#: one pasted sentence (invented) with a name, an email and a phone number
LONG_CELL_SENTENCE = ("Order notes pasted from the old system: the customer, Marta Quillon, asked us to write to "
                      "marta.quillon@example.org or to call 415-555-0199 once the part has shipped.\n")


def _size(text: str) -> int:
    units = {"k": 1_000, "m": 1_000_000}
    text = text.strip().lower()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def long_cells(sizes: list[int], sample_mb: float | None) -> None:
    """Seconds per MB of one free-text cell as it grows (with the model, and patterns only)."""
    from clearhouse.policy import Detection
    from clearhouse.privacy.detection.text import PresidioTextDetector
    from clearhouse.settings import load_settings

    model = load_settings().spacy_model
    print(f"long cells  one cell of a pasted text repeating one {len(LONG_CELL_SENTENCE)}-character sentence, numbered "
          f"(a name, an email, a phone number); {os.cpu_count()} CPUs")
    for use_ner in (True, False):
        detector = PresidioTextDetector(Detection(countries=["US"]), model, use_ner=use_ner)
        detector.detect_many([LONG_CELL_SENTENCE])  # warm up (model, lists, worker pool)
        for size in sizes:
            timed = size if sample_mb is None else min(size, int(sample_mb * 1_000_000))
            # each repetition numbered: no two windows are the same text (a repeated string is read once)
            cell = "".join(f"{i}. {LONG_CELL_SENTENCE}" for i in range(timed // len(LONG_CELL_SENTENCE) + 1))[:timed]
            t0 = time.perf_counter()
            (spans,) = detector.detect_many([cell])
            seconds = time.perf_counter() - t0
            note = "" if timed == size else f"  (timed on the first {timed / 1e6:g} MB of it: the whole cell is slow)"
            print(f"  {'NER + patterns' if use_ner else 'patterns only ':<14}  cell {size / 1e6:>8.3f} MB  "
                  f"{seconds:>8.2f} s  {seconds / (timed / 1e6):>7.1f} s/MB  {len(spans)} spans{note}")
        detector.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--vanilla-rows", type=int, default=1_000)
    parser.add_argument("--memory-rows", type=int, default=200_000, help="0 skips the memory check")
    parser.add_argument("--no-vanilla", action="store_true")
    parser.add_argument("--whole-run-rows", type=int, default=50_000, help="0 skips the whole `clearhouse run`")
    parser.add_argument("--long-cells", default="10k,1M,10M", help="cell sizes for seconds per MB ('' skips)")
    parser.add_argument("--long-cell-sample-mb", type=float, default=None,
                        help="time at most this many MB of each long cell (reported when used)")
    parser.add_argument("--long-cells-only", action="store_true")
    args = parser.parse_args(argv)

    sizes = [_size(s) for s in args.long_cells.split(",") if s.strip()]
    if args.long_cells_only:
        long_cells(sizes, args.long_cell_sample_mb)
        return 0

    print(f"support tickets, policy {POLICY.relative_to(REPO)}, {os.cpu_count()} CPUs")
    ours_mixed = in_subprocess(args.rows, True)
    ours_struct = in_subprocess(args.rows, False)
    print(f"clearhouse  mixed            {ours_mixed['rows']:>7} rows  {ours_mixed['rows_per_s']:>9.0f} rows/s  "
          f"(detect {ours_mixed['detect_seconds']:.2f}s of {ours_mixed['seconds']:.2f}s; "
          f"NER on {ours_mixed['ner_texts']} of {ours_mixed['texts']} messages)  "
          f"peak RSS {ours_mixed['peak_rss_mb']:.0f} MB")
    print(f"clearhouse  structured-only  {ours_struct['rows']:>7} rows  {ours_struct['rows_per_s']:>9.0f} rows/s  "
          f"peak RSS {ours_struct['peak_rss_mb']:.0f} MB")

    from clearhouse.policy import load_policy as load
    from clearhouse.privacy.detection.text import PresidioTextDetector
    from clearhouse.settings import load_settings

    texts, gold = gold_mentions(args.vanilla_rows)
    detector = PresidioTextDetector(load(POLICY).detection, load_settings().spacy_model)
    ours_pred = [[(s.start, s.end) for s in spans] for spans in detector.detect_many(texts)]
    detector.close()
    ours_recall = recall(gold, ours_pred)
    if not args.no_vanilla:
        van_mixed, van_spans = vanilla(args.vanilla_rows, True)
        van_struct, _ = vanilla(args.vanilla_rows, False)
        van_recall = recall(gold, van_spans)
        print(f"vanilla     mixed            {van_mixed['rows']:>7} rows  {van_mixed['rows_per_s']:>9.1f} rows/s  "
              f"(measured on a {args.vanilla_rows}-row subset)")
        van_first = van_mixed['rows_per_s']
        print(f"vanilla     structured-only  {van_struct['rows']:>7} rows  {van_struct['rows_per_s']:>9.1f} rows/s  "
              f"(measured on a {args.vanilla_rows}-row subset)")
        print(f"speed-up    mixed {ours_mixed['rows_per_s'] / van_mixed['rows_per_s']:.1f}x   "
              f"structured-only {ours_struct['rows_per_s'] / van_struct['rows_per_s']:.1f}x")
        print(f"message recall on the {args.vanilla_rows}-row subset ({sum(map(len, gold))} gold mentions): "
              f"clearhouse {ours_recall:.3f}  vanilla {van_recall:.3f}")
        if args.whole_run_rows:
            run = whole_run(args.whole_run_rows)
            # vanilla's rate swings by ±15% between runs on this kind of machine: measure it again right
            # after the whole run and compare with the slower and the faster of the two
            van_again = vanilla(args.vanilla_rows, True)[0]["rows_per_s"]
            low, high = sorted((van_first, van_again))
            print(f"vanilla     mixed again      {args.vanilla_rows:>7} rows  {van_again:>9.1f} rows/s  (right after "
                  f"the whole run)")
            print(f"whole run   clearhouse run   {run['rows']:>7} rows  {run['rows_per_s']:>9.0f} rows/s  "
                  f"({run['seconds']:.1f}s wall: Airflow, every stage, the gate and the ledger; {run['state']})  "
                  f"-> {run['rows_per_s'] / high:.1f}x to {run['rows_per_s'] / low:.1f}x vanilla mixed "
                  f"(its faster and slower run)")
            if run["tasks"]:
                print("            seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in run["tasks"].items()))
    else:
        print(f"message recall on the {args.vanilla_rows}-row subset: clearhouse {ours_recall:.3f}")
    floor = ner_floor(min(args.rows, 5_000))
    print(f"NER floor   spaCy ner pipe alone over the messages: {floor['msgs_per_s_1proc']:.0f} msgs/s on 1 core "
          f"(~{floor['msgs_per_s_all_cores_ideal']:.0f} msgs/s ideal on all cores); clearhouse mixed reached "
          f"{ours_mixed['rows_per_s']:.0f} rows/s by sending NER only {ours_mixed['ner_texts']} of "
          f"{ours_mixed['texts']} messages")
    if args.memory_rows:
        big = in_subprocess(args.memory_rows, True)
        ratio = big["peak_rss_mb"] / ours_mixed["peak_rss_mb"]
        print(f"memory      peak RSS {ours_mixed['peak_rss_mb']:.0f} MB at {args.rows} rows, "
              f"{big['peak_rss_mb']:.0f} MB at "
              f"{args.memory_rows} rows ({ratio:.2f}x; {big['rows_per_s']:.0f} rows/s)")
    if sizes:
        long_cells(sizes, args.long_cell_sample_mb)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_run":
        print(json.dumps(run_clearhouse(int(sys.argv[2]), sys.argv[3] == "1")))
        raise SystemExit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "--_write":
        write_table(int(sys.argv[2]), Path(sys.argv[3]), with_text=sys.argv[4] == "1")
        raise SystemExit(0)
    raise SystemExit(main())
