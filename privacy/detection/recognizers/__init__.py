"""Clearhouse's recognizers, one per module named by role, and the set a policy gets.

Registry by string key (``RECOGNIZERS``) so a policy or a test can refer to them by name.
"""

from __future__ import annotations

from presidio_analyzer import RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngine

from clearhouse.errors import DetectionError
from clearhouse.policy import Detection, RecognizerSpec
from clearhouse.privacy.detection.profiles import DetectionProfile
from clearhouse.privacy.detection.recognizers.age import AgeRecognizer
from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.closing_name import ClosingNameRecognizer
from clearhouse.privacy.detection.recognizers.context_id import ContextIdRecognizer
from clearhouse.privacy.detection.recognizers.date import ClearhouseDateRecognizer
from clearhouse.privacy.detection.recognizers.facility import FacilityRecognizer
from clearhouse.privacy.detection.recognizers.gazetteer_name import GazetteerNameRecognizer
from clearhouse.privacy.detection.recognizers.gazetteer_place import GazetteerPlaceRecognizer
from clearhouse.privacy.detection.recognizers.initial_name import InitialNameRecognizer
from clearhouse.privacy.detection.recognizers.name_cue import NameCueRecognizer
from clearhouse.privacy.detection.recognizers.org_suffix import OrganisationSuffixRecognizer
from clearhouse.privacy.detection.recognizers.phone import ClearhousePhoneRecognizer
from clearhouse.privacy.detection.recognizers.policy_pattern import PolicyPatternRecognizer
from clearhouse.privacy.detection.recognizers.postal_code import PostalCodeRecognizer
from clearhouse.privacy.detection.recognizers.presidio_pattern import PresidioPatternRecognizer
from clearhouse.privacy.detection.recognizers.signature_name import SignatureNameRecognizer
from clearhouse.privacy.detection.recognizers.street_address import StreetAddressRecognizer
from clearhouse.privacy.detection.recognizers.title_name import TitleNameRecognizer
from clearhouse.privacy.detection.recognizers.url import ClearhouseUrlRecognizer
from clearhouse.privacy.detection.recognizers.username import UsernameRecognizer

__all__ = ["RECOGNIZERS", "Candidate", "ClearhouseRecognizer", "build_recognizers"]

#: Clearhouse's own recognizers by name (the phone recognizer takes the policy's regions)
RECOGNIZERS: dict[str, type[ClearhouseRecognizer]] = {
    "title_name": TitleNameRecognizer,
    "name_cue": NameCueRecognizer,
    "signature_name": SignatureNameRecognizer,
    "closing_name": ClosingNameRecognizer,
    "initial_name": InitialNameRecognizer,
    "gazetteer_name": GazetteerNameRecognizer,
    "gazetteer_place": GazetteerPlaceRecognizer,
    "facility": FacilityRecognizer,
    "org_suffix": OrganisationSuffixRecognizer,
    "url": ClearhouseUrlRecognizer,
    "username": UsernameRecognizer,
    "context_id": ContextIdRecognizer,
    "date": ClearhouseDateRecognizer,
    "age": AgeRecognizer,
    "street_address": StreetAddressRecognizer,
    "postal_code": PostalCodeRecognizer,
}

#: Presidio predefined recognizers replaced by Clearhouse's (phone, date, URL) or needing NLP artefacts
#: (Clearhouse's are named ``Clearhouse*Recognizer``: Presidio's YAML loader finds recognizer classes by name)
_REPLACED = {"PhoneRecognizer", "DateRecognizer", "UrlRecognizer", "SpacyRecognizer", "StanzaRecognizer",
             "TransformersRecognizer", "GLiNERRecognizer"}
_PRESIDIO_COUNTRY = {"GB": "uk"}


class _NoNlp(NlpEngine):  # pragma: no cover - never called: only pattern recognizers are loaded
    """Stand-in so ``load_predefined_recognizers`` does not build (and download) a spaCy engine."""

    def load(self) -> None: ...
    def is_loaded(self) -> bool: return True
    def process_text(self, text, language):  # type: ignore[no-untyped-def]
        raise NotImplementedError
    def process_batch(self, texts, language, batch_size=1, n_process=1, **kw):  # type: ignore[no-untyped-def]
        raise NotImplementedError
    def is_stopword(self, word, language): return False  # type: ignore[no-untyped-def]
    def is_punct(self, word, language): return False  # type: ignore[no-untyped-def]
    def get_supported_entities(self): return []  # type: ignore[no-untyped-def]
    def get_supported_languages(self): return ["en"]  # type: ignore[no-untyped-def]


def presidio_pattern_recognizers(cfg: Detection) -> list[ClearhouseRecognizer]:
    """Presidio's predefined pattern recognizers for the policy's language and countries only (so a
    US policy never reports UK NHS numbers on US phone numbers)."""
    registry = RecognizerRegistry(supported_languages=[cfg.language])
    countries = [_PRESIDIO_COUNTRY.get(c, c.lower()) for c in cfg.countries]
    try:
        registry.load_predefined_recognizers(languages=[cfg.language], nlp_engine=_NoNlp(), countries=countries)
    except Exception as exc:
        raise DetectionError(f"cannot load Presidio recognizers: {type(exc).__name__}: {exc}") from exc
    return [PresidioPatternRecognizer(r) for r in registry.recognizers if type(r).__name__ not in _REPLACED]


def build_recognizers(cfg: Detection, profile: DetectionProfile | None = None) -> list[ClearhouseRecognizer]:
    """Every pattern recognizer a policy gets: Presidio's (country-scoped), Clearhouse's, the policy's
    (short form; its Presidio-YAML recognizers are built by ``analyzer.policy_recognizers``). Each is
    set up with ``profile`` (the policy's detection profiles; ``ClearhouseRecognizer.for_profile``)."""
    profile = profile or DetectionProfile()
    recognizers: list[ClearhouseRecognizer] = presidio_pattern_recognizers(cfg)
    recognizers.append(ClearhousePhoneRecognizer(list(cfg.countries)))
    recognizers += [cls.for_profile(profile) for cls in RECOGNIZERS.values()]
    recognizers += [PolicyPatternRecognizer(spec, i) for i, spec in enumerate(cfg.recognizers)
                    if isinstance(spec, RecognizerSpec)]
    for rec in recognizers:
        rec.supported_language = cfg.language
    return recognizers
