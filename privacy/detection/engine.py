"""Presidio analyzer set-up: offline spaCy NER, recognizers scoped by the policy's countries,
custom recognizers and allow lists declared in the policy."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngine, SpacyNlpEngine

from clearhouse.errors import DetectionError
from clearhouse.policy import Detection
from privacy.detection.offline import ensure_offline, require_installed_model

#: ISO 3166 alpha-2 → Presidio's country tags where they differ
_PRESIDIO_COUNTRY = {"GB": "uk"}


@lru_cache(maxsize=4)
def load_nlp_engine(model_name: str, language: str = "en") -> NlpEngine:
    """Load (once per process) a Presidio spaCy NLP engine without any download."""
    ensure_offline()
    require_installed_model(model_name)
    engine = SpacyNlpEngine(models=[{"lang_code": language, "model_name": model_name}])
    try:
        engine.load()
    except Exception as exc:  # spaCy raises OSError/ValueError/… depending on what is wrong
        raise DetectionError(f"cannot load spaCy model {model_name!r}: {type(exc).__name__}") from exc
    return engine


def presidio_countries(countries: list[str]) -> list[str]:
    return [_PRESIDIO_COUNTRY.get(c, c.lower()) for c in countries]


def custom_recognizers(cfg: Detection) -> list[PatternRecognizer]:
    recognizers = []
    for i, spec in enumerate(cfg.recognizers):
        patterns = [Pattern(name=p.name, regex=p.regex, score=p.score) for p in spec.patterns]
        kwargs: dict[str, Any] = {
            "supported_entity": spec.entity,
            "name": f"policy_{spec.entity.lower()}_{i}",
            "supported_language": cfg.language,
            "context": spec.context or None,
        }
        if patterns:
            kwargs["patterns"] = patterns
        if spec.deny_list:
            kwargs["deny_list"] = spec.deny_list
        recognizers.append(PatternRecognizer(**kwargs))
    return recognizers


def build_analyzer(cfg: Detection, model_name: str) -> AnalyzerEngine:
    """An AnalyzerEngine for one policy: predefined recognizers for the policy's countries only,
    plus the policy's own recognizers."""
    nlp_engine = load_nlp_engine(model_name, cfg.language)
    registry = RecognizerRegistry(supported_languages=[cfg.language])
    try:
        registry.load_predefined_recognizers(
            languages=[cfg.language], nlp_engine=nlp_engine, countries=presidio_countries(cfg.countries)
        )
        for recognizer in custom_recognizers(cfg):
            registry.add_recognizer(recognizer)
        return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[cfg.language])
    except Exception as exc:
        raise DetectionError(f"cannot build the analyzer: {type(exc).__name__}: {exc}") from exc
