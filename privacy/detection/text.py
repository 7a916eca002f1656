"""Free-text detection through Presidio's ``AnalyzerEngine``: every recognizer of one
``RecognizerRegistry`` on every text, spaCy NER only on the texts where it can change the result, batched
and — for large batches — in parallel (see :mod:`clearhouse.privacy.detection.analyzer`).

Pipeline per text:

1. Every applicable recognizer (Presidio's country-scoped pattern recognizers with their validators,
   Clearhouse's recognizers, the policy's own, an analyzer configuration's, any registered one) returns
   results; context words around a result raise its score (Presidio's context enhancement: the
   recognizer-level hook for Clearhouse's recognizers, the engine's enhancer for the others); the
   allow list removes results (Presidio's ``allow_list`` / ``allow_list_match``).
2. NER runs only where it can change the result: on texts that still hold a word outside what the
   patterns found, in any case (the model tags lower-case and all-capitals words too); ALL-CAPS texts
   are also read from a title-cased copy (names only).
3. Results below the threshold or outside the requested entities are dropped; a name found once is also
   taken where the text repeats it or lists it with others; weak national-ID patterns that coincide
   with a validated phone or card number are dropped; what remains is merged so overlapping spans
   become one (and an address with its city and postcode becomes one span).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from presidio_analyzer import EntityRecognizer
from spacy.lang.en.stop_words import STOP_WORDS

from clearhouse.errors import DetectionError
from clearhouse.policy import Detection
from clearhouse.privacy.detection.analyzer import (
    AnalyzerFile,
    PresidioAnalyzer,
    load_analyzer_file,
    policy_recognizers,
    presidio_yaml_recognizers,
)
from clearhouse.privacy.detection.lexicons import frequent_surname
from clearhouse.privacy.detection.lexicons import preload as preload_lexicons
from clearhouse.privacy.detection.offline import ensure_offline
from clearhouse.privacy.detection.profiles import load_profiles
from clearhouse.privacy.detection.recognizers import build_recognizers
from clearhouse.privacy.detection.recognizers.base import Candidate, candidate_of
from clearhouse.privacy.detection.recognizers.words import NOT_NAMES, common_word, has_vowel, name_like, text_case
from clearhouse.privacy.detection.types import Span
from clearhouse.settings import load_settings

#: pattern-only national identifiers that collide with phone and card numbers (Presidio's known FPs)
_WEAK_IDS = frozenset({"UK_NHS", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_PASSPORT", "US_ITIN",
                       "MEDICAL_LICENSE", "ZIP_CODE", "ID_NUMBER", "DATE_TIME"})
_STRONG = frozenset({"PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "EMAIL_ADDRESS", "IP_ADDRESS"})
_CAP_WORD = re.compile(r"[^\W\d_][\w'\u2019-]*")
#: entity types a declared vocabulary can rule out (names, places, organisations, groups)
_VOCABULARY_TYPES = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP"})
_VOCAB_WORD = re.compile(r"[^\W\d_][\w'\u2019]*")
#: long texts are read in windows of this many characters, overlapping by ``_OVERLAP`` (so time per
#: character stays flat however long a cell is, and no pattern ever sees more than one window)
_WINDOW = 4_000
_OVERLAP = 400
#: texts per worker task; large enough to amortise inter-process transfer
_CHUNK = 256
#: characters per worker task: the windows of one long cell are spread over the workers too
_CHUNK_CHARS = 100_000


#: Presidio's default flags for ``allow_list_match: regex``
_ALLOW_FLAGS = re.DOTALL | re.MULTILINE | re.IGNORECASE

_ADDRESS_PARTS = frozenset({"STREET_ADDRESS", "ZIP_CODE", "LOCATION"})
_JOINER = re.compile(r"[\s,>]{0,4}")


def merge_spans(spans: Sequence[Span], text: str | None = None) -> list[Span]:
    """Resolve overlaps: overlapping spans become one span over their union, typed by the best score.
    With ``text``, an address next to a place or postcode (only spaces, commas or a line break apart)
    becomes one address span."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if (text is not None and merged and span.entity_type in _ADDRESS_PARTS
                and merged[-1].entity_type in _ADDRESS_PARTS
                and "STREET_ADDRESS" in (span.entity_type, merged[-1].entity_type)
                and merged[-1].end <= span.start
                and _JOINER.fullmatch(text, merged[-1].end, span.start)):
            last = merged[-1]
            merged[-1] = Span(last.start, span.end, "STREET_ADDRESS", max(last.score, span.score))
        elif merged and span.start < merged[-1].end:
            last = merged[-1]
            best = last if last.score >= span.score else span
            merged[-1] = Span(last.start, max(last.end, span.end), best.entity_type, best.score)
        else:
            merged.append(span)
    return merged


def needs_ner(text: str, found: Sequence[Candidate]) -> bool:
    """Could NER add anything to ``text``? Yes while a word lies outside what the patterns found: the
    model tags lower-case, sentence-initial and all-capitals words too ("london", "Brown said", "UK"),
    so neither the case of the text nor a word's position rules it out."""
    covered = sorted((c.start, c.end) for c in found)
    return any(not any(s <= m.start() < e for s, e in covered) for m in _CAP_WORD.finditer(text))


_LIST_AFTER = re.compile(r"(?:[ \t]*,[ \t]*(?:and[ \t]+)?|[ \t]+and[ \t]+|[ \t]*&[ \t]*)"
                         r"(?P<v>[^\W\d_][\w'\u2019-]*(?:[ \t]+[^\W\d_][\w'\u2019-]*){0,2})")
_LIST_BEFORE = re.compile(r"(?P<v>[^\W\d_][\w'\u2019-]*(?:[ \t]+[^\W\d_][\w'\u2019-]*){0,2})"
                          r"(?:[ \t]*,[ \t]*|[ \t]+and[ \t]+|[ \t]*&[ \t]*)$")


_NEXT_WORD = re.compile(r" ([^\W\d_]+(?:['\u2019-][^\W\d_]+)*)(?![\w'\u2019-])")


def _name_word(word: str, cased: bool) -> bool:
    return len(word) >= 2 and not common_word(word) and (word[0].isupper() or not cased)


def _name_run(value: str, cased: bool, *, trailing: bool = False) -> tuple[int, int] | None:
    """Offsets (into ``value``) of its leading — or trailing — run of name words, if any: a listed name
    is followed by the rest of the sentence ("nora and bettina came by" → "bettina")."""
    words = list(re.finditer(r"\S+", value))
    if trailing:
        words.reverse()
    run = []
    for w in words:
        if not _name_word(w.group(), cased):
            break
        run.append(w)
    if not run:
        return None
    first, last = (run[-1], run[0]) if trailing else (run[0], run[-1])
    return first.start(), last.end()


def propagate_names(text: str, kept: list[Candidate]) -> list[Candidate]:
    """Names found once count wherever else the document repeats them, and their neighbours in a
    list ("Odalys, Mary and Joan") are names too — the way a human redactor reads a document."""
    people = [c for c in kept if c.entity_type == "PERSON"]
    if not people:
        return []
    cased = text_case(text) == "mixed"
    taken = [(c.start, c.end) for c in kept]
    added: list[Candidate] = []

    def add(start: int, end: int) -> None:
        if not any(s < end and start < e for s, e in taken):
            taken.append((start, end))
            added.append(Candidate(start, end, "PERSON", 0.6))

    for c in people:
        # A lone given name followed by an uncapitalised surname ("Amelia schmidt"): people often type
        # surnames in lower case, and leaving the surname next to a redacted given name re-identifies.
        if " " not in text[c.start:c.end].strip():
            m = _NEXT_WORD.match(text, c.end)
            # (a surname has a vowel: "xyz" after a product name is an abbreviation)
            # (a frequent census surname counts even when it is an English word: "Amelia brown")
            if (m and m.group(1).islower() and has_vowel(m.group(1)) and (
                    name_like(m.group(1), cased=False)
                    or (frequent_surname(m.group(1)) and m.group(1).lower() not in NOT_NAMES))):
                add(m.start(1), m.end(1))
    for c in people:  # one level: lists are only extended from names found by the detectors
        m = _LIST_AFTER.match(text, c.end)
        run = _name_run(m.group("v"), cased) if m else None
        if m and run:
            add(m.start("v") + run[0], m.start("v") + run[1])
        m = _LIST_BEFORE.search(text, max(0, c.start - 60), c.start)
        run = _name_run(m.group("v"), cased, trailing=True) if m else None
        if m and run:
            add(m.start("v") + run[0], m.start("v") + run[1])
    tokens = {w for c in people for w in _CAP_WORD.findall(text[c.start:c.end])
              if len(w) >= 4 and not common_word(w)}
    for tok in tokens:
        for m in re.finditer(rf"(?<![\w'\u2019-]){re.escape(tok)}(?![\w'\u2019-])", text, re.IGNORECASE):
            add(m.start(), m.end())
    return added


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.start < b.end and b.start < a.end


def _chunks(strings: list[str]) -> list[list[str]]:
    """Worker tasks: runs of at most ``_CHUNK`` texts or ``_CHUNK_CHARS`` characters, in order."""
    out: list[list[str]] = [[]]
    chars = 0
    for t in strings:
        if out[-1] and (len(out[-1]) >= _CHUNK or chars + len(t) > _CHUNK_CHARS):
            out.append([])
            chars = 0
        out[-1].append(t)
        chars += len(t)
    return out


def windows(text: str, size: int = _WINDOW, overlap: int = _OVERLAP) -> list[tuple[int, int]]:
    """``(start, end)`` windows covering ``text``: at most ``size`` characters each, each overlapping the
    previous by at least ``overlap`` characters (a span shorter than the overlap lies whole in one of
    them), cut at a line break or a space where one is near so that words stay whole."""
    n = len(text)
    if n <= size:
        return [(0, n)]
    out: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(n, start + size)
        if end < n:
            floor = start + size // 2
            cut = max(text.rfind("\n", floor, end), text.rfind(" ", end - overlap // 2, end))
            if cut > floor:
                end = cut
        out.append((start, end))
        if end >= n:
            return out
        nxt = end - overlap
        space = text.rfind(" ", nxt - overlap // 2, nxt)
        start = space + 1 if space > start else nxt


class PresidioTextDetector:
    """The detector the pipeline applies to free-text columns (and ``scan-text`` uses).

    ``processes`` > 1 runs large batches in forked worker processes (default: ``CLEARHOUSE_DETECT_PROCESSES``
    or the CPU count, at most 4); ``use_ner=False`` gives a pattern-only detector. ``profiles`` names
    opt-in domain profiles (:mod:`privacy.detection.profiles`: shipped names or resolved profile files;
    also read from the policy's ``detection.profile``): a name-type hit loses the words they declare,
    their measurement words make number pairs settings, and their Presidio recognizers join the rest.
    """

    def __init__(self, cfg: Detection, model_name: str, *, batch_size: int = 128,
                 entities: list[str] | None = None, processes: int | None = None, use_ner: bool = True,
                 profiles: Sequence[str] = ()) -> None:
        self.cfg = cfg
        self.model_name = model_name
        self.batch_size = batch_size
        wanted = entities or (cfg.entities or None)
        self.entities: frozenset[str] | None = frozenset(wanted) if wanted else None
        ensure_offline()  # (the pattern recognizers use tldextract too, with or without the model)
        # Clearhouse's recognizers, Presidio's predefined ones (country-scoped) and the policy's, then the
        # policy's Presidio-YAML recognizers and an analyzer configuration file's
        found = AnalyzerFile()
        if cfg.analyzer_config:
            if not Path(cfg.analyzer_config).is_absolute():
                raise DetectionError("detection.analyzer_config must be resolved against the policy file "
                                     "(load the policy with load_policy)")
            found = load_analyzer_file(cfg.analyzer_config, cfg.language)
        # opt-in domain profiles: declared vocabulary, measurement words, Presidio-YAML recognizers
        named = getattr(cfg, "profile", None)
        wanted_profiles = (*profiles, *([named] if isinstance(named, str) else list(named or [])))
        self.profile = load_profiles(wanted_profiles)
        self.vocabulary = self.profile.vocabulary
        recognizers = [*build_recognizers(cfg, self.profile), *policy_recognizers(cfg),
                       *presidio_yaml_recognizers(self.profile.recognizers, cfg.language), *found.recognizers]
        self.recognizers = [r for r in recognizers
                            if self.entities is None or self.entities.intersection(r.supported_entities)]
        #: the score a result needs: the policy's, else the analyzer configuration's default
        self.threshold = cfg.threshold if "threshold" in cfg.model_fields_set or found.threshold is None \
            else float(found.threshold)
        # Presidio's allow-list semantics (``exact``: the text as written; ``regex``: searched, any case),
        # applied by the analyzer to its results and here to names found by propagation
        self.allow = frozenset(cfg.allow_list) if cfg.allow_list_match == "exact" else frozenset()
        self._allow_re = re.compile("|".join(a for a in cfg.allow_list if a), _ALLOW_FLAGS) \
            if cfg.allow_list_match == "regex" and any(cfg.allow_list) else None
        self.declared = frozenset(spec.entity for spec in cfg.recognizers)
        self.analyzer = PresidioAnalyzer(cfg, self.recognizers, model_name, use_ner=use_ner,
                                         batch_size=batch_size, enhancer=found.enhancer, threshold=self.threshold)
        preload_lexicons()
        if processes is None:
            processes = load_settings().detect_processes or min(4, os.cpu_count() or 1)
        self.processes = max(1, processes)
        self._pool: ProcessPoolExecutor | None = None
        #: texts sent to NER / texts seen (how much the gate saved)
        self.stats = {"texts": 0, "ner_texts": 0}

    # ------------------------------------------------------------------------------------ one text
    def add_recognizer(self, recognizer: EntityRecognizer) -> None:
        """Register a Presidio ``EntityRecognizer`` of your own: it runs with the others on every text
        (a ``SpacyRecognizer`` subclass runs in the NER pass). Call before the first batch: worker
        processes are forked with the registry as it is then."""
        self.recognizers.append(recognizer)
        self.analyzer.add_recognizer(recognizer)

    def _allowed(self, word: str) -> bool:
        """Presidio's allow-list rule for ``word`` (the same the analyzer applied to its results)."""
        if self._allow_re is not None:
            return self._allow_re.search(word) is not None
        return word in self.allow

    def _without_vocabulary(self, text: str, cand: Candidate) -> list[Candidate]:
        """A name-type hit less the profiles' declared vocabulary: the declared words are cut out and
        what is left stays as one candidate per run of words ("Foley draining clear urine" keeps
        "Foley", a census surname no profile may declare). A run of function words alone goes with
        them ("Patient will continue"); a hit without declared words is left whole ("Will Smith")."""
        if cand.validated or cand.entity_type not in _VOCABULARY_TYPES:
            return [cand]
        words = list(_VOCAB_WORD.finditer(text, cand.start, cand.end))
        if not any(w.group().lower() in self.vocabulary for w in words):
            return [cand]
        out: list[Candidate] = []
        run: list[re.Match[str]] = []
        for w in [*words, None]:
            if w is not None and w.group().lower() not in self.vocabulary:
                run.append(w)
                continue
            if run and not all(r.group().lower() in STOP_WORDS for r in run):
                out.append(Candidate(run[0].start(), run[-1].end(), cand.entity_type, cand.score,
                                     cand.context, cand.validated))
            run = []
        return out

    def _finish(self, text: str, cands: list[Candidate]) -> list[Span]:
        threshold = self.threshold
        kept = [c for c in cands if c.score >= threshold
                and (self.entities is None or c.entity_type in self.entities)]
        if self.vocabulary:
            kept = [part for c in kept for part in self._without_vocabulary(text, c)]
        declared = [c for c in cands if c.entity_type in self.declared]
        if declared:
            # the policy's own recognizers name what they find: a built-in match inside theirs yields,
            # also where theirs scored below the threshold (the policy has said what that text is)
            kept = [c for c in kept if c.entity_type in self.declared
                    or not any(d.start <= c.start and c.end <= d.end for d in declared)]
        if self.entities is None or "PERSON" in self.entities:
            kept += [c for c in propagate_names(text, kept) if not self._allowed(text[c.start:c.end])]
        strong = [c for c in kept if c.entity_type in _STRONG and c.validated]
        if strong:
            # Presidio's known false positives: NHS/bank/licence patterns on phone and card numbers
            kept = [c for c in kept if not (c.entity_type in _WEAK_IDS and any(_overlaps(c, s) for s in strong))]
        return merge_spans([c.to_span() for c in kept], text)

    # ------------------------------------------------------------------------------------ batches
    def _detect_serial(self, texts: Sequence[str]) -> list[list[Span]]:
        found = [[candidate_of(r) for r in results] for results in self.analyzer.analyze_patterns(texts)]
        if self.analyzer.nlp is not None:
            todo = [i for i, t in enumerate(texts)
                    if needs_ner(t, [c for c in found[i] if c.score >= self.threshold])]
            self.stats["ner_texts"] += len(todo)
            # every text as written (what vanilla Presidio reads), and ALL-CAPS texts also title-cased
            for i, results in zip(todo, self.analyzer.analyze_ner([texts[i] for i in todo]), strict=True):
                found[i] += (candidate_of(r) for r in results)
        self.stats["texts"] += len(texts)
        return [self._finish(t, f) for t, f in zip(texts, found, strict=True)]

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            global _WORKER  # noqa: PLW0603 - handed to forked workers by inheritance
            _WORKER = self  # inherited by the forked workers: no model reload, no pickling
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("fork"))
            atexit.register(self.close)
        return self._pool

    def close(self) -> None:
        """Stop the worker processes (if any were started)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def detect_many(self, texts: Iterable[str | None]) -> list[list[Span]]:
        """Spans per text, in input order; offsets index the original strings."""
        items = list(texts)
        out: list[list[Span]] = [[] for _ in items]
        todo = [(i, t) for i, t in enumerate(items) if t is not None and t.strip()]
        if not todo:
            return out
        # long texts become overlapping windows, detected like short texts (batched, in parallel);
        # their spans are shifted back and merged, so a span seen twice in an overlap counts once
        pieces: list[tuple[int, int]] = []  # (index into todo, offset into that text)
        strings = []
        for k, (_, t) in enumerate(todo):
            for start, end in windows(t):
                pieces.append((k, start))
                strings.append(t[start:end])
        # each distinct string is detected once (boilerplate answers, templated messages, repeated window
        # text): detection of a string depends on that string alone
        unique = list(dict.fromkeys(strings))
        self.stats["texts"] += len(strings) - len(unique)
        try:
            chunks = _chunks(unique)
            if self.processes > 1 and len(chunks) >= 2 and "fork" in multiprocessing.get_all_start_methods():
                found: list[list[Span]] = []
                for part, (n_texts, n_ner) in self._executor().map(_work, chunks):
                    found += part
                    self.stats["texts"] += n_texts
                    self.stats["ner_texts"] += n_ner
            else:
                found = self._detect_serial(unique)
            by_string = dict(zip(unique, found, strict=True))
            results = [by_string[t] for t in strings]
        except DetectionError:
            raise
        except Exception as exc:
            # Fail closed: a detector crash must stop the release, and never quote the text.
            raise DetectionError(f"free-text detection failed: {type(exc).__name__}") from exc
        gathered: list[list[Span]] = [[] for _ in todo]
        for (k, offset), spans in zip(pieces, results, strict=True):
            gathered[k] += (Span(s.start + offset, s.end + offset, s.entity_type, s.score) for s in spans)
        for k, (i, text) in enumerate(todo):
            out[i] = merge_spans(gathered[k], text) if len(text) > _WINDOW else gathered[k]
        return out


_WORKER: PresidioTextDetector | None = None


def _work(texts: list[str]) -> tuple[list[list[Span]], tuple[int, int]]:
    detector = _WORKER
    if detector is None:  # pragma: no cover - only if a worker was not forked from the parent
        raise DetectionError("detector worker started without a detector")
    before = dict(detector.stats)
    spans = detector._detect_serial(texts)
    return spans, (detector.stats["texts"] - before["texts"], detector.stats["ner_texts"] - before["ner_texts"])


def make_text_detector(cfg: Detection, model_name: str, **kwargs: Any) -> PresidioTextDetector:
    """Factory for the free-text detector (the name stays for callers of the first version)."""
    return PresidioTextDetector(cfg, model_name, **kwargs)
