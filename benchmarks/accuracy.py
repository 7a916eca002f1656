"""Accuracy of Clearhouse's free-text detector against vanilla Presidio, side by side.

Reads the labelled corpora from ``../shared/eval/`` (relative to the repository root) at run time;
nothing from them is copied into the repository. Scores are type-agnostic, as privacy needs:

* mention recall — a gold span counts as found when any predicted span overlaps it;
* character precision / recall / F2 — over the characters inside predicted vs gold spans;
* per-label mention recall.

Every corpus is split into two fixed halves by a stable hash of its document ids (never file order):
``dev`` is the half whose failures may be looked at while developing; ``report`` (the default) is the
half whose figures are reported. The domains are the corpora in ``../shared/eval`` (synthetic,
clinical, social) and the project's own sample tickets (``tickets``), whose gold spans are the row's own
values (customer name and its parts, email, phone, street address, date of birth) located in its message.

The run exits with status 1 when any domain's mention recall is below vanilla Presidio's in the same run.

Vanilla Presidio is the default ``AnalyzerEngine`` (all default recognizers, default score threshold)
with the same spaCy model passed as its NLP engine.

    .venv/bin/python benchmarks/accuracy.py [--half dev|report] [--limit N] [--corpus NAME] [--no-vanilla]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EVAL_DIR = REPO.parent / "shared" / "eval"
#: corpus → the domain it stands for; "tickets" is generated here (``clearhouse.sample``), not read
DOMAINS = {
    "presidio_synth_v2": "synthetic",
    "physionet_deid_dev": "clinical",
    "wnut17_social_dev": "social",
    "tickets": "tickets",
}
CORPORA = tuple(DOMAINS)
#: sample tickets generated for the tickets domain (both halves together)
TICKET_ROWS = 3000

Spans = list[tuple[int, int]]


@dataclass
class Score:
    """Accumulated counts for one detector over one corpus."""

    gold_mentions: int = 0
    found_mentions: int = 0
    pred_chars: int = 0
    true_chars: int = 0
    gold_chars: int = 0
    covered_chars: int = 0
    seconds: float = 0.0
    docs: int = 0
    by_label: Counter[str] = field(default_factory=Counter)
    found_by_label: Counter[str] = field(default_factory=Counter)

    def add(self, gold: list[dict[str, object]], pred: Spans) -> None:
        gold_chars: set[int] = set()
        for g in gold:
            s, e, label = int(g["start"]), int(g["end"]), str(g["label"])  # type: ignore[call-overload]
            self.gold_mentions += 1
            self.by_label[label] += 1
            if any(ps < e and s < pe for ps, pe in pred):
                self.found_mentions += 1
                self.found_by_label[label] += 1
            gold_chars.update(range(s, e))
        pred_chars: set[int] = set()
        for ps, pe in pred:
            pred_chars.update(range(ps, pe))
        self.pred_chars += len(pred_chars)
        self.true_chars += len(pred_chars & gold_chars)
        self.gold_chars += len(gold_chars)
        self.covered_chars += len(gold_chars & pred_chars)
        self.docs += 1

    @property
    def mention_recall(self) -> float:
        return self.found_mentions / self.gold_mentions if self.gold_mentions else 1.0

    @property
    def char_precision(self) -> float:
        return self.true_chars / self.pred_chars if self.pred_chars else 1.0

    @property
    def char_recall(self) -> float:
        return self.covered_chars / self.gold_chars if self.gold_chars else 1.0

    @property
    def f2(self) -> float:
        p, r = self.char_precision, self.char_recall
        return 5 * p * r / (4 * p + r) if p + r else 0.0


def half_of(corpus: str, doc_id: str) -> str:
    """``"dev"`` or ``"report"``: a fixed split by a stable hash of the corpus and document id, so the
    halves do not depend on file order, on Python's hash seed or on which documents a run reads."""
    digest = hashlib.sha256(f"{corpus}\x00{doc_id}".encode()).digest()
    return "dev" if digest[0] % 2 == 0 else "report"


def _jsonl(name: str) -> Iterator[dict[str, object]]:
    path = EVAL_DIR / f"{name}.jsonl"
    if not path.exists():
        raise SystemExit(f"corpus not found: {path} (the eval data lives outside the repository)")
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _occurrences(text: str, value: str, *, words: bool) -> Iterator[tuple[int, int]]:
    if not value:
        return
    pattern = re.escape(value)
    if words:
        pattern = rf"(?<![\w'\u2019]){pattern}(?![\w'\u2019])"
    for m in re.finditer(pattern, text, re.IGNORECASE):
        yield m.start(), m.end()


def label_ticket(row: dict[str, object]) -> list[dict[str, object]]:
    """Gold spans of a sample ticket's message: each of the row's own direct identifiers found in it
    (whole values first, then a name's parts where the whole name is not written), any case."""
    text = str(row["message"])
    dob = date.fromisoformat(str(row["date_of_birth"]))
    name = str(row["customer_name"])
    values: list[tuple[str, str, bool]] = [
        (str(row["email"]), "EMAIL_ADDRESS", False),
        (str(row["phone"]), "PHONE_NUMBER", False),
        (str(row["street_address"]), "STREET_ADDRESS", False),
        (str(row["date_of_birth"]), "DATE_TIME", False),
        (dob.strftime("%d %B %Y"), "DATE_TIME", False),  # the way the messages write a birth date
        (name, "PERSON", True),
        *((part, "PERSON", True) for part in name.split()),
    ]
    spans: list[dict[str, object]] = []
    for value, label, words in values:
        for s, e in _occurrences(text, value, words=words):
            if not any(int(g["start"]) < e and s < int(g["end"]) for g in spans):  # type: ignore[call-overload]
                spans.append({"start": s, "end": e, "label": label})
    return sorted(spans, key=lambda g: int(g["start"]))  # type: ignore[call-overload]


def _tickets() -> Iterator[dict[str, object]]:
    from clearhouse.sample import generate_support_tickets

    for row in generate_support_tickets(TICKET_ROWS).to_pylist():
        yield {"id": str(row["ticket_id"]), "text": str(row["message"]), "spans": label_ticket(row)}


def read_corpus(name: str, limit: int | None, half: str = "report") -> Iterator[dict[str, object]]:
    """The documents of one half of a corpus, in file order (at most ``limit`` of them)."""
    docs = _tickets() if name == "tickets" else _jsonl(name)
    n = 0
    for doc in docs:
        if half_of(name, str(doc["id"])) != half:
            continue
        if limit is not None and n >= limit:
            break
        n += 1
        yield doc


#: the opt-in detection profile each domain is scored with (the others run the general default)
PROFILES = {"clinical": ("clinical",)}


def clearhouse_detector(model: str, countries: list[str], profiles: tuple[str, ...] = ()
                        ) -> Callable[[list[str]], list[Spans]]:
    from clearhouse.policy import Detection
    from clearhouse.privacy.detection.text import PresidioTextDetector

    detector = PresidioTextDetector(Detection(countries=countries), model, profiles=profiles)

    def run(texts: list[str]) -> list[Spans]:
        return [[(s.start, s.end) for s in spans] for spans in detector.detect_many(texts)]

    return run


def vanilla_detector(model: str) -> Callable[[list[str]], list[Spans]]:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    from clearhouse.privacy.detection.offline import ensure_offline

    ensure_offline()
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}])
    engine.load()
    analyzer = AnalyzerEngine(nlp_engine=engine)

    def run(texts: list[str]) -> list[Spans]:
        return [[(r.start, r.end) for r in analyzer.analyze(text=t, language="en")] for t in texts]

    return run


def evaluate(run: Callable[[list[str]], list[Spans]], docs: list[dict[str, object]]) -> Score:
    score = Score()
    texts = [str(d["text"]) for d in docs]
    t0 = time.perf_counter()
    preds = run(texts)
    score.seconds = time.perf_counter() - t0
    for doc, pred in zip(docs, preds, strict=True):
        score.add(doc["spans"], pred)  # type: ignore[arg-type]
    return score


def report(corpus: str, results: dict[str, Score]) -> None:
    print(f"\n== {DOMAINS[corpus]}: {corpus} ({next(iter(results.values())).docs} docs, "
          f"{next(iter(results.values())).gold_mentions} gold spans)")
    print(f"{'detector':<12} {'mention_R':>9} {'char_P':>7} {'char_R':>7} {'char_F2':>7} {'docs/s':>8}")
    for name, s in results.items():
        print(f"{name:<12} {s.mention_recall:>9.3f} {s.char_precision:>7.3f} {s.char_recall:>7.3f} "
              f"{s.f2:>7.3f} {s.docs / s.seconds if s.seconds else 0:>8.1f}")
    labels = sorted(next(iter(results.values())).by_label)
    print("per-label mention recall: " + "  ".join(["label", *list(results)]))
    for label in labels:
        cells = [f"{s.found_by_label[label] / s.by_label[label]:.3f}" for s in results.values()]
        n = next(iter(results.values())).by_label[label]
        print(f"  {label:<18} n={n:<5} " + "  ".join(f"{c:>8}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=("dev", "report"), default="report",
                        help="which fixed half of each corpus to score (default: report)")
    parser.add_argument("--limit", type=int, default=None, help="documents per corpus (default: all)")
    parser.add_argument("--corpus", action="append", choices=CORPORA, help="default: every corpus")
    parser.add_argument("--countries", default="US", help="policy countries for Clearhouse (default US)")
    parser.add_argument("--no-vanilla", action="store_true", help="skip the vanilla Presidio baseline")
    args = parser.parse_args(argv)

    from clearhouse.settings import load_settings

    model = load_settings().spacy_model
    countries = args.countries.split(",")
    vanilla = None if args.no_vanilla else vanilla_detector(model)
    print(f"spaCy model: {model}; Clearhouse countries: {args.countries}; threshold 0.5; profiles: "
          + ", ".join(f"{d}: {'+'.join(p)}" for d, p in PROFILES.items()) + " (other domains: none); "
          "vanilla = default AnalyzerEngine (all default recognizers, default threshold); "
          f"half: {args.half}")
    summary: dict[str, dict[str, Score]] = {}
    for corpus in args.corpus or CORPORA:
        docs = list(read_corpus(corpus, args.limit, args.half))
        detectors = {"clearhouse": clearhouse_detector(model, countries, PROFILES.get(DOMAINS[corpus], ()))}
        if vanilla is not None:
            detectors["vanilla"] = vanilla
        summary[corpus] = {name: evaluate(run, docs) for name, run in detectors.items()}
        report(corpus, summary[corpus])
    return summarise(summary)


def summarise(summary: dict[str, dict[str, Score]]) -> int:
    """Print the per-domain table (ours beside vanilla); 1 if any domain's recall is below vanilla's."""
    print("\n== summary (mention recall / char precision / char F2)")
    print(f"{'domain':<10} {'docs':>5} {'clearhouse':>22} {'vanilla':>22}  recall >= vanilla")
    failed = []
    for corpus, results in summary.items():
        ours, base = results["clearhouse"], results.get("vanilla")
        cells = [f"{s.mention_recall:.3f} / {s.char_precision:.3f} / {s.f2:.3f}" for s in (ours, base) if s]
        ok = base is None or ours.mention_recall >= base.mention_recall
        if not ok:
            failed.append(DOMAINS[corpus])
        print(f"{DOMAINS[corpus]:<10} {ours.docs:>5} {cells[0]:>22} {cells[1] if base else '-':>22}  "
              f"{'yes' if ok else 'NO'}")
    if failed:
        print(f"mention recall below vanilla Presidio on: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
