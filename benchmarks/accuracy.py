"""Accuracy of Clearhouse's free-text detector against vanilla Presidio, side by side.

Reads the labelled corpora from ``../shared/eval/`` (relative to the repository root) at run time;
nothing from them is copied into the repository. Scores are type-agnostic, as privacy needs:

* mention recall — a gold span counts as found when any predicted span overlaps it;
* character precision / recall / F2 — over the characters inside predicted vs gold spans;
* per-label mention recall.

Vanilla Presidio is the default ``AnalyzerEngine`` (all default recognizers, default score threshold)
with the same spaCy model passed as its NLP engine.

    .venv/bin/python benchmarks/accuracy.py [--limit N] [--corpus physionet_deid_dev] [--no-vanilla]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EVAL_DIR = REPO.parent / "shared" / "eval"
CORPORA = ("physionet_deid_dev", "presidio_synth_v2")

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


def read_corpus(name: str, limit: int | None) -> Iterator[dict[str, object]]:
    path = EVAL_DIR / f"{name}.jsonl"
    if not path.exists():
        raise SystemExit(f"corpus not found: {path} (the eval data lives outside the repository)")
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                break
            yield json.loads(line)


def clearhouse_detector(model: str, countries: list[str]) -> Callable[[list[str]], list[Spans]]:
    from clearhouse.policy import Detection
    from clearhouse.privacy.detection.text import PresidioTextDetector

    detector = PresidioTextDetector(Detection(countries=countries), model)

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
    print(f"\n== {corpus} ({next(iter(results.values())).docs} docs, "
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
    parser.add_argument("--limit", type=int, default=None, help="documents per corpus (default: all)")
    parser.add_argument("--corpus", action="append", choices=CORPORA, help="default: every corpus")
    parser.add_argument("--countries", default="US", help="policy countries for Clearhouse (default US)")
    parser.add_argument("--no-vanilla", action="store_true", help="skip the vanilla Presidio baseline")
    args = parser.parse_args(argv)

    from clearhouse.settings import load_settings

    model = load_settings().spacy_model
    detectors: dict[str, Callable[[list[str]], list[Spans]]] = {
        "clearhouse": clearhouse_detector(model, args.countries.split(","))
    }
    if not args.no_vanilla:
        detectors["vanilla"] = vanilla_detector(model)
    print(f"spaCy model: {model}; Clearhouse countries: {args.countries}; threshold 0.5; "
          "vanilla = default AnalyzerEngine (all default recognizers, default threshold)")
    for corpus in args.corpus or CORPORA:
        docs = list(read_corpus(corpus, args.limit))
        report(corpus, {name: evaluate(run, docs) for name, run in detectors.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
