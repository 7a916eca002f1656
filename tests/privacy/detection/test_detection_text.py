"""The free-text detector end to end: offsets, casing, country scoping, policy lists, entity filter."""

from __future__ import annotations

from itertools import pairwise

import pytest

from clearhouse.policy import Detection, RecognizerSpec
from clearhouse.privacy.detection.ner import (
    _clock_time,
    _shouted_name_word,
    shorthand,
    trim_caps,
)
from clearhouse.privacy.detection.recognizers.base import Candidate
from clearhouse.privacy.detection.recognizers.facility import FacilityRecognizer
from clearhouse.privacy.detection.recognizers.name_cue import NameCueRecognizer
from clearhouse.privacy.detection.recognizers.title_name import TitleNameRecognizer
from clearhouse.privacy.detection.recognizers.words import predicate_like
from clearhouse.privacy.detection.text import PresidioTextDetector, merge_spans, needs_ner
from clearhouse.privacy.detection.types import Span


def spans_text(detector: PresidioTextDetector, text: str) -> dict[str, str]:
    """substring → entity type for every span found in ``text`` (checks offsets index ``text``)."""
    (spans,) = detector.detect_many([text])
    for s in spans:
        assert 0 <= s.start < s.end <= len(text)
    return {text[s.start:s.end]: s.entity_type for s in spans}


@pytest.mark.parametrize(("text", "expected"), [
    ("Hi, this is Marguerite Olsen, call me at (415) 555-0199 or m.olsen@example.org",
     {"Marguerite Olsen", "(415) 555-0199", "m.olsen@example.org"}),
    ("MY KETTLE STOPPED WORKING. CALL ME AT 415-555-0142. ANNA KOWALSKI",
     {"415-555-0142", "ANNA KOWALSKI"}),
    ("hi its dr quimby, my card 4539 1488 0343 6467 was charged twice", {"quimby", "4539 1488 0343 6467"}),
    ("Case number 2021-CV-004512 was filed on 03/04/2021 by Mr. Tobias Wren",
     {"2021-CV-004512", "03/04/2021", "Tobias Wren"}),
    ("My SSN is 536-22-8741 and my IBAN is GB82 WEST 1234 5698 7654 32", {"536-22-8741"}),
    ("Visitor from 203.0.113.45 used a 72 year old browser", {"203.0.113.45", "72"}),
])
def test_finds_personal_data(us_detector: PresidioTextDetector, text: str, expected: set[str]) -> None:
    got = spans_text(us_detector, text)
    for want in expected:
        assert any(want in k for k in got), f"{want!r} not found in {sorted(got)}"


@pytest.mark.parametrize("text", [
    "The router keeps disconnecting since the update.",
    "please reset my password, it does not work",
    "Vent settings unchanged at 12/700/.5/5, sats 98%.",
])
def test_leaves_clean_text_alone(us_detector: PresidioTextDetector, text: str) -> None:
    assert spans_text(us_detector, text) == {}


def test_offsets_index_the_original_text(us_detector: PresidioTextDetector) -> None:
    text = "Ünïcode first — then Mr. Álvaro Núñez at álvaro.n@example.com"
    got = spans_text(us_detector, text)
    assert "álvaro.n@example.com" in got
    assert any("Núñez" in k for k in got)


def test_us_policy_reports_no_nhs_numbers_on_us_phones(us_detector: PresidioTextDetector,
                                                       gb_detector: PresidioTextDetector) -> None:
    text = "call 401-555-0134 or 943 476 5919 please"
    assert "UK_NHS" not in spans_text(us_detector, text).values()
    gb = spans_text(gb_detector, "NHS number 943 476 5919")
    assert gb.get("943 476 5919") == "UK_NHS"


def test_allow_list_deny_list_and_custom_regex(model_name: str) -> None:
    cfg = Detection(
        allow_list=["Hannelore Sturm"],
        recognizers=[
            RecognizerSpec(entity="PROJECT", deny_list=["Bluebird"]),
            RecognizerSpec(entity="BADGE_ID", patterns=[{"name": "b", "regex": r"BDG\d{5}", "score": 0.3}],
                           context=["badge"]),
        ],
    )
    det = PresidioTextDetector(cfg, model_name, processes=1)
    text = "BDG54321 was printed on an old form. Hannelore Sturm leads project bluebird; badge BDG12345."
    got = spans_text(det, text)
    assert "Hannelore Sturm" not in got
    assert got.get("bluebird") == "PROJECT"
    assert got.get("BDG12345") == "BADGE_ID"  # 0.3 + context → above the 0.5 threshold
    assert "BDG54321" not in got


def test_entities_filter_and_empty_inputs(model_name: str) -> None:
    det = PresidioTextDetector(Detection(), model_name, entities=["EMAIL_ADDRESS"], processes=1)
    out = det.detect_many(["Mr. Ambrose Quill, a.quill@example.net", None, "", "   "])
    assert [[s.entity_type for s in spans] for spans in out] == [["EMAIL_ADDRESS"], [], [], []]


def test_merge_spans_unions_overlaps() -> None:
    merged = merge_spans([Span(0, 5, "A", 0.5), Span(3, 9, "B", 0.9), Span(12, 14, "C", 0.7)])
    assert merged == [Span(0, 9, "B", 0.9), Span(12, 14, "C", 0.7)]


@pytest.mark.parametrize(("text", "expected"), [
    ("I met Rosalind yesterday", True),
    ("Kenji Barlow wrote this", True),
    # the model tags lower-case and sentence-initial words too: case and position rule nothing out
    ("flew to quillfield with brown", True),
    ("Brown called twice.", True),
    ("415-555-0134", False),
    ("", False),
])
def test_ner_gate(text: str, expected: bool) -> None:
    assert needs_ner(text, []) is expected


@pytest.mark.slow
def test_parallel_matches_serial(model_name: str) -> None:
    texts = [f"Ticket {i}: Mr. Wendell Quarry at 415-555-{i % 10000:04d}, order ORD-{100000 + i}" for i in range(600)]
    serial = PresidioTextDetector(Detection(), model_name, processes=1).detect_many(texts)
    parallel = PresidioTextDetector(Detection(), model_name, processes=2)
    try:
        assert parallel.detect_many(texts) == serial
    finally:
        parallel.close()


@pytest.mark.parametrize(("text", "surname", "expected"), [
    ("hi its Amelia schmidt, package went astray", "schmidt", True),
    ("this is Kenji o'brien writing again", "o'brien", True),
    ("hi its Amelia brown, the parcel never came", "brown", True),
    ("MY KETTLE STOPPED WORKING. CALL ME BACK. GRACE OKONKWO", "GRACE", True),
    ("Thanks, Chloe wants a refund", "wants", False),
    ("Sorry, Maria called twice", "called", False),
])
def test_lower_case_surname_after_a_given_name(us_detector: PresidioTextDetector, text: str, surname: str,
                                               expected: bool) -> None:
    spans = us_detector.detect_many([text])[0]
    start = text.index(surname)
    covered = any(s.start <= start and start + len(surname) <= s.end for s in spans)
    assert covered is expected


# ---------------------------------------------------------------- NER filters (synthetic strings only)
@pytest.mark.parametrize(("text", "want", "found_it"), [
    # names keep being found …
    ("Yesterday Marguerite Olsen phoned about the invoice.", "Marguerite Olsen", True),
    ("Then it rained. Kasimir spoke with the clerk.", "Kasimir", True),
    ("Roxanne is always punctual.", "Roxanne", True),
    ("The form was signed by Ann Lee MD last week.", "Ann Lee", True),
    # … a dose next to a word is positive evidence of a substance
    ("Patient got Brandolex 40 mg at noon and slept.", "Brandolex", False),
    ("She relies on Desmond for rides.", "Desmond", True),
    # medicine names (from the pinned medicine list) are never people, places or organisations
    ("Given Zolpidem overnight, then Lorazepam.", "Zolpidem", False),
    ("Given Zolpidem overnight, then Lorazepam.", "Lorazepam", False),
    # organisations named with ordinary words keep their company word; headings do not
    ("She works at Quillfeather Solutions in town.", "Quillfeather Solutions", True),
])
def test_ner_filters(us_detector: PresidioTextDetector, text: str, want: str, found_it: bool) -> None:
    got = spans_text(us_detector, text)
    assert any(want in k for k in got) is found_it, sorted(got)


@pytest.mark.parametrize(("text", "kept"), [
    ("Ann Lee MD", "Ann Lee"), ("Ann Lee RN", "Ann Lee"),
    # only listed credentials are trimmed: a short upper-case word may be part of a name or a place
    ("Wean ABCD", "Wean ABCD"), ("IV Brandname", "IV Brandname"),
    ("Kate M Begum", "Kate M Begum"), ("John Smith III", "John Smith III"), ("ABC DEF", "ABC DEF"),
])
def test_trim_caps(text: str, kept: str) -> None:
    lo, hi = trim_caps(text)
    assert text[lo:hi] == kept


@pytest.mark.parametrize(("text", "document", "expected"), [
    ("Brandolex", "Brandolex 40 mg given", True),
    ("Brandolex", "gave 250 ml Brandolex", True),
    ("Anna Berg", "Anna Berg called at 4", False),
    ("Smith-Jones", "Smith-Jones replied", False),
])
def test_shorthand(text: str, document: str, expected: bool) -> None:
    start = document.index(text)
    assert shorthand(text, document, start, start + len(text)) is expected


@pytest.mark.parametrize(("text", "document", "expected"), [
    ("2130", "dose given @ 2130 tonight", True),
    ("2300-0700", "shift 2300-0700 quiet", True),
    ("2004", "the Act of 2004 applies", False),
    ("March 2004", "since March 2004", False),
])
def test_clock_time(text: str, document: str, expected: bool) -> None:
    assert _clock_time(text, document, document.index(text)) is expected


@pytest.mark.parametrize(("word", "expected"), [
    ("is", True), ("and", True), ("lives", True), ("arrived", True), ("spoke", True), ("aware.", True),
    ("soft", False), ("draining", False), ("to", False), ("gtt", False),
])
def test_predicate_like(us_detector: PresidioTextDetector, word: str, expected: bool) -> None:
    # us_detector loads the model's lexicon (irregular verbs such as "spoke")
    assert predicate_like(word) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("She went to Harbor Clinic for the scan.", ["Harbor"]),
    ("moved to quillfield hospital in May", ["quillfield"]),
    ("she got better at the local clinic", []),
    ("booked into a dental clinic", []),
])
def test_facility_names_are_no_common_words(us_detector: PresidioTextDetector, text: str,
                                            expected: list[str]) -> None:
    # us_detector loads the model's lexicon, which tells "needs" and "cardiac" from a name
    got = [text[c.start:c.end] for c in FacilityRecognizer().find(text) if c.score >= 0.5]
    assert expected[0] in got if expected else got == []


@pytest.mark.parametrize(("text", "expected"), [
    ("BP fine. dr. quenby met the family.", "quenby"),
    ("BP fine. her son drove home.", None),
])
def test_irregular_verbs_end_lower_case_names(us_detector: PresidioTextDetector, text: str,
                                              expected: str | None) -> None:
    # us_detector loads the lexicon with irregular verb forms ("met", "drove")
    got = [text[c.start:c.end] for rec in (TitleNameRecognizer(), NameCueRecognizer()) for c in rec.find(text)]
    assert got == ([expected] if expected else [])


@pytest.mark.parametrize(("word", "expected"), [
    ("KOWALSKI", True), ("ANNA", True), ("BEGAN", False), ("WOKE", False), ("OKAY'D", False),
])
def test_shouted_name_words_are_no_verbs(us_detector: PresidioTextDetector, word: str, expected: bool) -> None:
    assert _shouted_name_word(word) is expected


@pytest.mark.parametrize(("words", "entity", "vocabulary"), [
    (["Ibuprofen"], "PERSON", True),
    (["Ibuprofen", "Tablets"], "PERSON", True),
    (["Ngo"], "PERSON", False),            # a short census surname stays a name
    (["Marguerite", "Olsen"], "PERSON", False),
    (["Quiet", "River", "Solutions"], "ORGANIZATION", False),
    (["Tallinn"], "ORGANIZATION", False),  # a listed place tagged as an organisation
    (["Reading"], "LOCATION", False),
    # ordinary English words are no evidence: many surnames and places are words
    (["Brown"], "PERSON", False),
    (["Rose"], "PERSON", False),
    (["Wrist", "Splint"], "PERSON", False),
    (["Elbow"], "LOCATION", False),
])
def test_vocabulary_filter(us_detector: PresidioTextDetector, words: list[str], entity: str,
                           vocabulary: bool) -> None:
    from clearhouse.privacy.detection.ner import _vocabulary

    assert _vocabulary(words, entity) is vocabulary


# ---------------------------------------------------------------- recall first (synthetic strings only)
@pytest.mark.parametrize(("text", "want"), [
    # surnames and places that are English words, lower case, sentence-initial or short
    ("Brown said the parcel was late again.", "Brown"),
    ("Flying to the UK next week with Trump fans", "UK"),
    ("going to london tomorrow", "london"),
])
def test_words_and_case_are_no_evidence(us_detector: PresidioTextDetector, text: str, want: str) -> None:
    (spans,) = us_detector.detect_many([text])
    start = text.index(want)
    assert any(s.start <= start < s.end for s in spans) or any(
        start <= s.start < start + len(want) for s in spans), [text[s.start:s.end] for s in spans]


def test_clinical_profile_drops_declared_vocabulary_only(model_name: str) -> None:
    from clearhouse.privacy.detection.profiles import profile_vocabulary

    vocab = profile_vocabulary("clinical")
    assert "neuro" in vocab and "npo" in vocab
    assert "foley" not in vocab  # a frequent census surname is never declared away
    det = PresidioTextDetector(Detection(countries=["US"]), model_name, processes=1, profiles=("clinical",))
    cand = Candidate(0, 30, "PERSON", 0.85)
    text = "Foley draining clear urine now"
    parts = [text[c.start:c.end] for c in det._without_vocabulary(text, cand)]
    assert parts == ["Foley"]  # ("now" alone is a function word)
    text = "Will Smith visited this morning"
    assert det._without_vocabulary(text, Candidate(0, 10, "PERSON", 0.85)) == [Candidate(0, 10, "PERSON", 0.85)]
    text = "Patient will continue"
    assert det._without_vocabulary(text, Candidate(0, len(text), "PERSON", 0.85)) == []


def test_unknown_profile_fails_early(model_name: str) -> None:
    from clearhouse.errors import DetectionError

    with pytest.raises(DetectionError, match="unknown detection profile"):
        PresidioTextDetector(Detection(), model_name, processes=1, use_ner=False, profiles=("nonesuch",))


# ---------------------------------------------------------------- long cells: windows, linear time
def test_windows_cover_the_text_with_overlap() -> None:
    from clearhouse.privacy.detection.text import windows

    text = ("word " * 7 + "\n") * 3000
    got = windows(text, size=4000, overlap=400)
    assert got[0][0] == 0 and got[-1][1] == len(text)
    for (a, b), (c, _) in pairwise(got):
        assert b - a <= 4000 and a < c and b - c >= 400
        assert text[c - 1] in " \n"  # windows start after a space or line break: words stay whole
    assert windows("short text") == [(0, 10)]


_PASTED = ("Order notes pasted from the old system: the customer, Marta Quillon, asked us to write to "
           "marta.quillon@example.org or to call 415-555-0199 once the part has shipped.\n")


def _long_cell(chars: int) -> str:
    # each repetition numbered, so no two windows of the cell are the same text (the detector reads a
    # repeated string once: an identical copy would measure that, not time per character)
    n = chars // len(_PASTED) + 1
    return "".join(f"{i}. {_PASTED}" for i in range(n))[:chars]


def test_multi_megabyte_cell_is_linear(model_name: str) -> None:
    """A pasted text repeating one sentence (a name, an email, a phone number) is read in windows:
    every repetition is found, with offsets into the original string, in bounded time."""
    import time

    det = PresidioTextDetector(Detection(countries=["US"]), model_name, processes=2, use_ner=False)
    try:
        text = _long_cell(2_000_000)
        t0 = time.perf_counter()
        (spans,) = det.detect_many([text])
        elapsed = time.perf_counter() - t0
    finally:
        det.close()
    emails = [s for s in spans if s.entity_type == "EMAIL_ADDRESS"]
    assert len(emails) == text.count("@")
    assert all(text[s.start:s.end] == "marta.quillon@example.org" for s in emails)
    phones = [s for s in spans if text[s.start:s.end] == "415-555-0199"]
    assert len(phones) == text.count("415-555-0199")
    assert spans == sorted(spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in pairwise(spans))  # no duplicates from overlaps
    # (before windows, time grew faster than the text and a 3 MB cell ran for over ten minutes)
    assert elapsed < 120, f"{elapsed:.0f}s for 2 MB"


@pytest.mark.slow
def test_long_cell_with_ner_matches_short_pieces(model_name: str) -> None:
    """With the model, a long cell finds what its sentences find on their own, and finishes."""
    import time

    det = PresidioTextDetector(Detection(countries=["US"]), model_name, processes=2)
    try:
        text = _long_cell(300_000)
        t0 = time.perf_counter()
        (spans,) = det.detect_many([text])
        elapsed = time.perf_counter() - t0
        (alone,) = det.detect_many([_PASTED])
    finally:
        det.close()
    assert {_PASTED[s.start:s.end] for s in alone} >= {"Marta Quillon", "marta.quillon@example.org", "415-555-0199"}
    names = [s for s in spans if text[s.start:s.end] == "Marta Quillon"]
    assert len(names) == text.count("Marta Quillon")
    assert elapsed < 180, f"{elapsed:.0f}s for 300 kB"


@pytest.mark.parametrize(("text", "want"), [
    # reference, case, file and application numbers with slashes or dashes beside a context word
    ("Please quote ref no. 2023/45-A in all letters.", "2023/45-A"),
    ("This is about case 12-3456 which was heard last week.", "12-3456"),
    ("Application number: 77/2019/XK was refused.", "77/2019/XK"),
    # initials used as a name after an honorific
    ("I spoke to Mr D.R. about the fence.", "D.R."),
    ("Mrs G. was not at home when we called.", "G."),
    # places with diacritics and outside the US
    ("We moved from Kraków to Münster last spring.", "Münster"),
    ("The office in São Paulo sent it to Łódź.", "Łódź"),
    # a full name alone after the last sentence, a given name from outside the US census
    ("I returned the blender two weeks ago and still no refund. Thandiwe Nkosi", "Thandiwe Nkosi"),
])
def test_general_kinds(us_detector: PresidioTextDetector, text: str, want: str) -> None:
    got = spans_text(us_detector, text)
    assert any(want in k for k in got), sorted(got)


def test_repeated_texts_are_detected_once_with_the_same_result(model_name: str) -> None:
    det = PresidioTextDetector(Detection(countries=["US"]), model_name, processes=1)
    one = "Thanks, Marguerite Olsen (415) 555-0199"
    other = "no reply from m.olsen@example.org yet"
    texts = [one, other, one, None, one]
    before = dict(det.stats)
    got = det.detect_many(texts)
    seen = {k: det.stats[k] - before[k] for k in before}
    alone = [det.detect_many([t])[0] for t in (one, other)]
    assert got[0] == got[2] == got[4] == alone[0] and got[1] == alone[1] and got[3] == []
    assert got[0] is not got[2]  # every row gets its own list
    assert seen["texts"] == 4  # every non-empty text counts as seen ...
    assert seen["ner_texts"] <= 2  # ... each distinct one is read once
