"""Clearhouse's Presidio ``NlpEngine``: the configured spaCy model with only its ``ner`` pipe, never
downloaded, and artefacts that cost nothing until a recognizer reads them.

Two instances serve a detector:

* ``ner=False`` — token-level artefacts for every text: no model runs; tokens (spaCy's tokenizer) and
  lemmas (lower-cased token text, see :mod:`clearhouse.privacy.detection.context`) are made only when
  the context enhancer asks for them. NLP recognizers find no entities there.
* ``ner=True`` — ``process_batch`` runs NER with ``nlp.pipe`` over the batch (and over title-cased copies
  of ALL-CAPS texts, which NER trained on cased text otherwise misreads); the entities are in
  ``entities`` and ``title_case_entities``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine

from clearhouse.privacy.detection.ner import NER_LABELS, load_ner, title_copy
from clearhouse.privacy.detection.recognizers.words import text_case


class LazyNlpArtifacts(NlpArtifacts):
    """``NlpArtifacts`` whose tokens, lemmas and keywords are computed on first use."""

    def __init__(self, text: str, engine: ClearhouseNlpEngine, language: str, *, doc: Any = None,
                 title_text: str | None = None, title_doc: Any = None) -> None:
        # (NlpArtifacts.__init__ computes the keywords eagerly: the point here is not to)
        self.text = text
        self.nlp_engine = engine
        self.language = language
        self._doc = doc
        self.entities = list(doc.ents) if doc is not None else []
        self.scores = [0.85] * len(self.entities)
        #: the title-cased copy of an ALL-CAPS text (same length) and the entities NER found in it
        self.title_case_text = title_text
        self.title_case_entities = list(title_doc.ents) if title_doc is not None else []
        self._lemmas: list[str] | None = None
        self._keywords: list[str] | None = None

    @property
    def tokens(self) -> Any:  # type: ignore[override]
        if self._doc is None:
            self._doc = self.nlp_engine.tokenize(self.text)
        return self._doc

    @property
    def tokens_indices(self) -> list[int]:  # type: ignore[override]
        return [t.idx for t in self.tokens]

    @property
    def lemmas(self) -> list[str]:  # type: ignore[override]
        if self._lemmas is None:
            self._lemmas = [t.text.lower() for t in self.tokens]
        return self._lemmas

    @property
    def keywords(self) -> list[str]:  # type: ignore[override]
        if self._keywords is None:
            self._keywords = NlpArtifacts.set_keywords(self.nlp_engine, self.lemmas, self.language)
        return self._keywords


class ClearhouseNlpEngine(NlpEngine):
    """A Presidio ``NlpEngine`` over the NER-only spaCy pipeline (``model_name`` None: tokenizer of a
    blank pipeline, for pattern-only detectors)."""

    def __init__(self, model_name: str | None, language: str = "en", *, ner: bool = False) -> None:
        self.model_name = model_name
        self.language = language
        self.ner = ner and model_name is not None
        self.nlp: Any = None

    def load(self) -> None:
        if self.model_name is not None:
            self.nlp = load_ner(self.model_name)
        else:
            import spacy  # noqa: PLC0415 - heavy; a blank pipeline only tokenizes (nothing to download)

            self.nlp = spacy.blank(self.language)

    def is_loaded(self) -> bool:
        return self.nlp is not None

    def tokenize(self, text: str) -> Any:
        """spaCy's tokens of ``text`` (no pipe runs)."""
        if self.nlp is None:
            self.load()
        return self.nlp.make_doc(text)

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return next(iter(self.process_batch([text], language)))[1]

    def process_batch(self, texts: Iterable[str], language: str, batch_size: int = 128, n_process: int = 1,
                      **kwargs: Any) -> Iterator[tuple[str, NlpArtifacts]]:
        """Artefacts per text, in order; with ``ner``, NER runs batched over the whole batch."""
        items = [str(t) for t in texts]
        if not self.ner:
            for t in items:
                yield t, LazyNlpArtifacts(t, self, language)
            return
        if self.nlp is None:
            self.load()
        shouted = {i: title_copy(t) for i, t in enumerate(items) if text_case(t) == "upper"}
        title_docs = dict(zip(shouted, self.nlp.pipe(list(shouted.values()), batch_size=batch_size), strict=True))
        for i, (t, doc) in enumerate(zip(items, self.nlp.pipe(items, batch_size=batch_size), strict=True)):
            yield t, LazyNlpArtifacts(t, self, language, doc=doc, title_text=shouted.get(i),
                                      title_doc=title_docs.get(i))

    def is_stopword(self, word: str, language: str) -> bool:
        if self.nlp is None:
            self.load()
        return word.lower() in self.nlp.Defaults.stop_words

    def is_punct(self, word: str, language: str) -> bool:
        return not any(ch.isalnum() for ch in word)

    def get_supported_entities(self) -> list[str]:
        return sorted({entity for entity, _ in NER_LABELS.values()})

    def get_supported_languages(self) -> list[str]:
        return [self.language]
