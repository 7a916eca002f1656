"""The NLP recognizer: spaCy's entities from the analyzer's NLP artefacts, filtered the recall-first way."""

from __future__ import annotations

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from clearhouse.privacy.detection.ner import NER_LABELS, entity_candidates, shouted_candidates
from clearhouse.privacy.detection.recognizers.base import result_of


class SpacyNerRecognizer(SpacyRecognizer):
    """Presidio's NLP recognizer slot (a ``SpacyRecognizer``), reading the entities of
    :class:`~clearhouse.privacy.detection.nlp_engine.ClearhouseNlpEngine`: an entity is dropped only on
    positive evidence that it is no personal data (a dose, a listed medicine) and trimmed of leading verbs
    and trailing credentials; ALL-CAPS texts add the names found in their title-cased copy. Artefacts
    without entities (texts NER did not read) give nothing."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language,
                         supported_entities=sorted({entity for entity, _ in NER_LABELS.values()}),
                         name="spacy_ner")

    def analyze(self, text: str, entities: list[str] | None = None,
                nlp_artifacts: NlpArtifacts | None = None) -> list[RecognizerResult]:
        if nlp_artifacts is None:
            return []
        cands = entity_candidates(text, nlp_artifacts.entities) if nlp_artifacts.entities else []
        title_text = getattr(nlp_artifacts, "title_case_text", None)
        title_ents = getattr(nlp_artifacts, "title_case_entities", None)
        if title_text and title_ents:
            cands += shouted_candidates(title_text, title_ents)
        return [result_of(c, self) for c in cands]
