"""Presidio analyzer set-up: one ``RecognizerRegistry`` and the ``AnalyzerEngine`` passes over it.

The registry holds Presidio's country-scoped predefined recognizers, Clearhouse's recognizers, the
policy's recognizers (Clearhouse's short form and Presidio's recognizer YAML), the recognizers of an
analyzer configuration file, and one NLP recognizer (:class:`SpacyNerRecognizer`). Callers may register
more (any ``EntityRecognizer``) with :meth:`PresidioAnalyzer.add_recognizer`.

Detection runs it in two ``BatchAnalyzerEngine`` passes so that NER runs only where it can change the
result:

1. every text goes through an ``AnalyzerEngine`` over all recognizers except the NLP ones, with
   token-level artefacts that cost nothing unless the context enhancer reads them;
2. the texts where NER can still add something (a word no pattern explained) go through an
   ``AnalyzerEngine`` over the NLP recognizers, whose engine runs spaCy NER batched (``nlp.pipe``).

Both passes share the registry's recognizer objects, the context enhancer and the allow list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from presidio_analyzer import (
    AnalyzerEngine,
    BatchAnalyzerEngine,
    EntityRecognizer,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.input_validation import ConfigurationValidator
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from presidio_analyzer.recognizer_registry import RecognizerRegistryProvider

from clearhouse.errors import DetectionError
from clearhouse.policy import Detection, PresidioRecognizerSpec, presidio_recognizer_dict, read_analyzer_config
from clearhouse.privacy.detection.context import make_enhancer
from clearhouse.privacy.detection.nlp_engine import ClearhouseNlpEngine
from clearhouse.privacy.detection.recognizers.spacy_ner import SpacyNerRecognizer


@dataclass
class AnalyzerFile:
    """What Clearhouse takes from a Presidio analyzer configuration file (``AnalyzerEngineProvider``
    format). Honoured: ``recognizer_registry`` (custom and predefined recognizers, ``global_regex_flags``;
    NLP recognizers such as ``SpacyRecognizer`` are skipped — Clearhouse's NLP recognizer reads the
    model), ``context_aware_enhancer``, ``default_score_threshold`` (when the policy sets no
    ``detection.threshold``). Checked only: ``supported_languages`` (must include the policy's language)
    and ``nlp_configuration`` (the model is ``CLEARHOUSE_SPACY_MODEL``, installed, never downloaded)."""

    recognizers: list[EntityRecognizer] = field(default_factory=list)
    enhancer: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None


def load_analyzer_file(path: str | Path, language: str) -> AnalyzerFile:
    """Read and build an analyzer configuration file (see :class:`AnalyzerFile`)."""
    try:
        data = read_analyzer_config(Path(path))
        out = AnalyzerFile(threshold=data.get("default_score_threshold"))
        if "context_aware_enhancer" in data:
            out.enhancer = ConfigurationValidator.validate_context_aware_enhancer_configuration(
                data["context_aware_enhancer"])
        conf = data.get("recognizer_registry")
        if conf is not None:
            # no NLP engine: the provider then adds no NLP recognizer of its own
            provider = RecognizerRegistryProvider(
                registry_configuration={**conf, "supported_languages": [language]}, nlp_engine=None)
            registry = provider.create_recognizer_registry()
            out.recognizers = [r for r in registry.recognizers
                               if not isinstance(r, SpacyRecognizer) and r.supported_language == language]
    except DetectionError:
        raise
    except Exception as exc:  # Presidio raises ValueError/TypeError/… for what it cannot build
        raise DetectionError(f"analyzer configuration {Path(path).name}: {type(exc).__name__}: {exc}") from exc
    return out


def policy_recognizers(cfg: Detection) -> list[EntityRecognizer]:
    """The policy's recognizers written in Presidio's YAML, built by Presidio's ``PatternRecognizer``."""
    return presidio_yaml_recognizers(
        [spec.model_dump() for spec in cfg.recognizers if isinstance(spec, PresidioRecognizerSpec)], cfg.language)


def presidio_yaml_recognizers(entries: Sequence[dict[str, Any]], language: str) -> list[EntityRecognizer]:
    """Recognizers from Presidio recognizer YAML entries (already validated), built by ``PatternRecognizer``;
    entries with ``enabled: false`` are left out."""
    out: list[EntityRecognizer] = []
    for data in entries:
        if data.get("enabled", True) is False:
            continue
        rec = PatternRecognizer.from_dict(presidio_recognizer_dict(data, language))
        if data.get("score_thresholds") is not None:
            rec.score_thresholds = data["score_thresholds"]
        out.append(rec)
    return out


class PresidioAnalyzer:
    """The registry and the two analyzer passes (see the module docstring)."""

    def __init__(self, cfg: Detection, recognizers: Sequence[EntityRecognizer], model_name: str | None,
                 *, use_ner: bool, batch_size: int = 128, enhancer: dict[str, Any] | None = None,
                 threshold: float = 0.0) -> None:
        self.language = cfg.language
        self.batch_size = batch_size
        self.allow_list = list(cfg.allow_list)
        self.allow_list_match = cfg.allow_list_match
        self.registry = RecognizerRegistry(supported_languages=[self.language])
        for rec in recognizers:
            self.registry.add_recognizer(rec)
        self.use_ner = use_ner and model_name is not None
        if self.use_ner:
            self.registry.add_recognizer(SpacyNerRecognizer(self.language))
        self.enhancer = make_enhancer(enhancer, floor=threshold)
        self.tokens = ClearhouseNlpEngine(model_name if self.use_ner else None, self.language, ner=False)
        self.tokens.load()
        self.ner = ClearhouseNlpEngine(model_name, self.language, ner=True) if self.use_ner else None
        self._build()

    def add_recognizer(self, recognizer: EntityRecognizer) -> None:
        """Register one more recognizer (an NLP recognizer — a ``SpacyRecognizer`` — joins the NER pass)."""
        recognizer.supported_language = recognizer.supported_language or self.language
        self.registry.add_recognizer(recognizer)
        self._build()

    def _build(self) -> None:
        #: registry position by recognizer id: results are put back in registration order (the engine
        #: sorts them by entity name), so equal scores resolve the same way in every pass
        self._rank = {r.id: i for i, r in enumerate(self.registry.recognizers)}
        nlp = [r for r in self.registry.recognizers if isinstance(r, SpacyRecognizer)]
        rest = [r for r in self.registry.recognizers if not isinstance(r, SpacyRecognizer)]
        self.patterns = BatchAnalyzerEngine(self._engine(rest, self.tokens))
        self.nlp = BatchAnalyzerEngine(self._engine(nlp, self.ner)) if self.ner is not None and nlp else None

    def _engine(self, recognizers: Sequence[EntityRecognizer], nlp_engine: ClearhouseNlpEngine) -> AnalyzerEngine:
        registry = RecognizerRegistry(recognizers=list(recognizers), supported_languages=[self.language])
        if not recognizers:  # (an empty registry would make the engine load Presidio's defaults)
            registry.add_recognizer(_Nothing(self.language))
        return _Engine(registry=registry, nlp_engine=nlp_engine, supported_languages=[self.language],
                       context_aware_enhancer=self.enhancer, default_score_threshold=0)

    def _options(self) -> dict[str, Any]:
        if not self.allow_list:
            return {}
        return {"allow_list": self.allow_list, "allow_list_match": self.allow_list_match}

    def analyze_patterns(self, texts: Sequence[str]) -> list[list[RecognizerResult]]:
        """Pass 1: every recognizer but the NLP ones, over every text."""
        return [self._ordered(r) for r in self.patterns.analyze_iterator(
            list(texts), self.language, batch_size=self.batch_size, **self._options())]

    def _ordered(self, results: list[RecognizerResult]) -> list[RecognizerResult]:
        rank, last = self._rank, len(self._rank)
        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        return sorted(results, key=lambda r: (rank.get((r.recognition_metadata or {}).get(key), last), r.start))

    def analyze_ner(self, texts: Sequence[str]) -> list[list[RecognizerResult]]:
        """Pass 2: the NLP recognizers over ``texts``, NER batched."""
        if self.nlp is None or not texts:
            return [[] for _ in texts]
        return [self._ordered(r) for r in self.nlp.analyze_iterator(
            list(texts), self.language, batch_size=self.batch_size, **self._options())]


class _Engine(AnalyzerEngine):
    """Presidio's ``AnalyzerEngine``, with its recognizer-level context step done in one pass over the
    results: Presidio scans every result once per registered recognizer (about 30 here, on every
    text) and asks recognizers without a result to enhance an empty list. Here results are grouped by
    recognizer once, and only recognizers with results are asked — the same calls with the same
    arguments for those, in registry order, then the engine's context enhancer as in Presidio."""

    def _enhance_using_context(self, text: str, raw_results: list[RecognizerResult], nlp_artifacts: Any,
                               recognizers: list[EntityRecognizer], context: list[str] | None = None,
                               ) -> list[RecognizerResult]:
        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        by_recognizer: dict[str, list[RecognizerResult]] = {}
        for result in raw_results:
            by_recognizer.setdefault(result.recognition_metadata[key], []).append(result)
        results: list[RecognizerResult] = []
        for recognizer in recognizers:
            own = by_recognizer.get(recognizer.id)
            if not own:
                continue
            others = [r for r in raw_results if r.recognition_metadata[key] != recognizer.id]
            results.extend(recognizer.enhance_using_context(
                text=text, raw_recognizer_results=own, other_raw_recognizer_results=others,
                nlp_artifacts=nlp_artifacts, context=context))
        enhanced: list[RecognizerResult] = self.context_aware_enhancer.enhance_using_context(
            text=text, raw_results=results, nlp_artifacts=nlp_artifacts, recognizers=recognizers, context=context)
        return enhanced


class _Nothing(EntityRecognizer):
    """Keeps a pass's registry non-empty when a policy wants no entity it could find."""

    def __init__(self, language: str) -> None:
        super().__init__(supported_entities=["NOTHING"], name="nothing", supported_language=language)

    def load(self) -> None: ...

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        return []
