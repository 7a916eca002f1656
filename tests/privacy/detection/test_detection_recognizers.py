"""Table-driven positive and negative cases for each Clearhouse recognizer (no NER model needed).

Every string here is synthetic and written for these tests.
"""

from __future__ import annotations

import pytest

from clearhouse.policy import parse_policy
from clearhouse.privacy.detection.recognizers import (
    RECOGNIZERS,
    build_recognizers,
)
from clearhouse.privacy.detection.recognizers.base import ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.phone import ClearhousePhoneRecognizer
from clearhouse.privacy.detection.recognizers.policy_pattern import PolicyPatternRecognizer
from clearhouse.privacy.detection.validators import iban_ok, luhn_ok, phone_ok, ssn_ok


def found(rec: ClearhouseRecognizer, text: str, threshold: float = 0.5) -> list[str]:
    """The matched substrings scoring at least ``threshold`` (before context boosting)."""
    return [text[c.start:c.end] for c in rec.find(text) if c.score >= threshold] if rec.applies(text) else []


CASES: list[tuple[str, str, list[str]]] = [
    # (recognizer, text, expected substrings — empty for negatives)
    ("title_name", "Please ask Mr Quentin Barlow to call back", ["Quentin Barlow"]),
    ("title_name", "seen by dr yelverton this morning", ["yelverton"]),
    ("title_name", "SPOKE WITH DR. ABERNATHY ABOUT THE PLAN", ["ABERNATHY"]),
    ("title_name", "Prof. J. Okonkwo-Ruiz gave the talk", ["J. Okonkwo-Ruiz"]),
    ("title_name", "the doctor said it was fine", []),
    ("title_name", "Judge Okonkwo denied the motion", ["Okonkwo"]),
    ("title_name", "the judge said no", []),
    ("title_name", "follow ms\ncon't same plan", []),
    ("title_name", "BP stable. dr quenby aware of the plan.", ["quenby"]),
    ("title_name", "BP stable. Dr aware of the plan.", []),
    ("title_name", "Pain in lt leg. BP stable today.", []),
    ("name_cue", "Hello, my name is Ottoline Fairweather and I need help", ["Ottoline Fairweather"]),
    ("name_cue", "her daughter rosalind will visit", ["rosalind"]),
    ("name_cue", "Thanks, Benedikt", ["Benedikt"]),
    ("name_cue", "his daughter called twice", []),
    ("name_cue", "Plaintiff Marisol Quintero filed the complaint", ["Marisol Quintero"]),
    ("name_cue", "the plaintiff filed a motion", []),
    ("name_cue", "thanks, see you tomorrow", []),
    ("name_cue", "Her daughters Wilhelmina and Ottilie came by", ["Wilhelmina"]),
    ("name_cue", "his significant other Desmond phoned", ["Desmond"]),
    ("name_cue", "her daughters visited twice", []),
    ("name_cue", "SISTER, COUSINS CAME TODAY", []),
    ("signature_name", "Reviewed and signed. Hermione T. Vasquez, RN", ["Hermione T. Vasquez"]),
    ("signature_name", "the plan was agreed, md to follow", []),
    # social-media handles, not email addresses or URLs
    ("username", "RT @quill_writer thanks , and @marta_q too", ["@quill_writer", "@marta_q"]),
    ("username", "write to marta.q@example.org or see https://example.org/@team", []),
    ("username", "doors open @ 7:30 and the party is @2pm", []),
    # a full name alone after the last sentence, given names from anywhere
    ("closing_name", "The kettle leaks again and nobody answers. Thandiwe Nkosi", ["Thandiwe Nkosi"]),
    ("closing_name", "still waiting on the parcel\nkwabena mensah", ["kwabena mensah"]),
    ("closing_name", "Please fix it soon. Ngozi Adaeze Okafor.", ["Ngozi Adaeze Okafor"]),
    ("closing_name", "Still nothing after two weeks. Best regards", []),
    ("closing_name", "Thanks for the quick reply. Happy Birthday", []),
    ("closing_name", "Thandiwe Nkosi wrote to us and we replied quickly", []),
    ("closing_name", "We moved last year. New York", []),
    ("initial_name", "labs reviewed, K. Brown aware", ["K. Brown"]),
    ("initial_name", "plan per s. okafor rrt", ["s. okafor"]),
    ("initial_name", "urine grew E. coli again", []),
    ("initial_name", "seen at 10 a.m. today", []),
    ("initial_name", "Vitals fine. Plan: c. fluids overnight, then review.", []),
    ("name_cue", "his son bill drove him home", ["bill"]),
    ("name_cue", "Still waiting for my refund. Thanks, anjali desai", ["anjali desai"]),
    ("name_cue", "thanks, see you soon", []),
    ("name_cue", "Account closed? Thanks, Grace", ["Grace"]),
    ("name_cue", "Thanks, I will wait for the courier tomorrow", []),
    ("name_cue", "NO VISITORS. HUSBAND, ART, WILL CALL", ["ART"]),
    ("name_cue", "her son will call later", []),
    ("gazetteer_name", "spoke with joanne kowalski about the bill", ["joanne kowalski"]),
    ("gazetteer_name", "CONTACT: DOLORES K MENDOZA AT HOME", ["DOLORES K MENDOZA"]),
    ("gazetteer_name", "Yes, Felicia Brown phoned again.", ["Felicia Brown"]),
    ("gazetteer_name", "Rosemarie: are you coming?", ["Rosemarie"]),
    ("gazetteer_name", "Yesterday Wojciech came by again", ["Wojciech"]),  # a given name of the world list
    ("gazetteer_name", "Yesterday we drove to Wil again", []),  # only abroad a given name, and a listed place
    ("gazetteer_name", "Chiclana de la Frontera in spring", []),  # particles join names, they are none
    ("gazetteer_name", "ok thanks! Desiree: see you then", ["Desiree"]),
    ("gazetteer_name", "Dressing changed. Amber fluid noted.", []),
    ("gazetteer_name", "labs sent. np harriet aware", ["harriet"]),
    ("gazetteer_name", "BP LOW, R. HOLLOWAY NOTIFIED", ["R. HOLLOWAY"]),
    ("gazetteer_name", "plan per t gallagher, continue", ["t gallagher"]),
    ("gazetteer_name", "dr brown aware of the rash", ["brown"]),
    # names that are also words are not taken without a cue; nouns after a role are no names
    ("gazetteer_name", "will power and mark time", []),
    ("gazetteer_name", "i talked to deborah about it yesterday", ["deborah"]),
    ("gazetteer_name", "please ask mark to call", []),
    ("gazetteer_name", "CALL ME BACK PLEASE. GERALD OKONJO", ["GERALD OKONJO"]),
    ("gazetteer_name", "CALL ME BACK PLEASE. ZOE BROWN", ["ZOE BROWN"]),
    ("gazetteer_name", "CALL ME BACK PLEASE. JAMES KOVALENKO", ["JAMES KOVALENKO"]),
    ("gazetteer_name", "LEFT ART CLASS TODAY", []),
    ("gazetteer_name", "the marriage of roxanne white and dwayne brown", ["roxanne white", "dwayne brown"]),
    ("gazetteer_name", "kids: odalys, brandon, tiffany and kyle", ["odalys", "brandon", "tiffany", "kyle"]),
    ("gazetteer_name", "bought bread, milk, eggs and butter", []),
    ("gazetteer_name", "Grace period ends Friday", []),
    ("gazetteer_name", "settings per flow sheet, line flushed", []),
    ("gazetteer_name", "social worker called the family", []),
    ("gazetteer_place", "We moved here from TALLINN last year", ["TALLINN"]),
    ("gazetteer_place", "his son drove back to new london today", ["new london"]),
    ("gazetteer_place", "She grew up in Springfield, Ohio.", ["Springfield", "Ohio"]),
    ("gazetteer_place", "Nice work. Split the bill with Reading Group.", []),
    ("gazetteer_place", "walked to the man in the hat", []),
    ("facility", "transferred to ICU, then to the kitchen", []),
    ("facility", "TRANSFERRED FROM DENVER THIS AM", ["DENVER"]),
    ("facility", "SEEN AT U OF NM CLINIC LAST YEAR", ["U OF NM"]),
    ("facility", "a university of excellence", []),
    ("org_suffix", "MARISA DELGADO v. NORTHWIND LOGISTICS LLC, Defendant.", ["NORTHWIND LOGISTICS LLC"]),
    ("org_suffix", "I used to work for 7 Bridges Inc as a clerk", ["7 Bridges Inc"]),
    ("org_suffix", "The Bramblewood Group invested heavily", ["Bramblewood Group"]),
    ("org_suffix", "Terms of Service: accepted", []),
    ("org_suffix", "the group met and co-workers came", []),
    ("facility", "She was admitted to Fernbrook Memorial overnight", ["Fernbrook"]),
    ("facility", "transferred to the floor after the scan", []),
    ("context_id", "Re: case no. 2:19-cv-04417, hearing moved", ["2:19-cv-04417"]),
    ("context_id", "medical record # 00482215 attached", ["00482215"]),
    ("context_id", "Your application number is AB-77120-Z", ["AB-77120-Z"]),
    ("context_id", "order #QX-558213 shipped", ["QX-558213"]),
    ("context_id", "account 55120934 is overdue", ["55120934"]),
    ("context_id", "the case was closed in 3 days", []),
    ("context_id", "patient seen at 10:30 on 8/12", []),
    ("date", "She was born on 7/14/1961 in town", ["7/14/1961"]),
    ("date", "follow-up on March 3, 2021 please", ["March 3, 2021"]),
    ("date", "admitted 2019-05-02 09:15", ["2019-05-02 09:15"]),
    ("date", "prostate ca '98, resolved", ["'98"]),
    ("date", "founded in 1987 by two friends", ["1987"]),
    ("date", "take 1/2 tablet at 2000", []),
    ("date", "second dose given @ 2130 as planned", []),
    ("date", "iabp weaned off 9/7, stable", ["9/7"]),
    ("date", "hip fx (04/97) s/p repair", ["04/97"]),
    ("date", "vent settings 18/6/30 unchanged", []),
    ("date", "CATH ON 4/12-STENT PLACED", ["4/12"]),
    ("date", "intubated 3/28-4/2 for pneumonia", ["3/28"]),
    ("date", "NOTE-11/19 REVIEWED", ["11/19"]),
    ("date", "range 3-4/5 today", []),
    ("date", "changed to CPAP 8/6 overnight", ["8/6"]),  # a setting only where a profile says so (see profiles)
    ("date", "BP 120/80 after the walk", []),
    ("date", "grip strength 4/5 bilaterally", []),
    ("date", "extubated on 4/5, doing well", ["4/5"]),
    ("date", "you may leave now", []),
    ("date", "signed this 5th day of March, 2019", ["5th day of March, 2019"]),
    ("age", "A 67 yo woman with chest pain", ["67"]),
    ("age", "the 45-year-old driver", ["45"]),
    ("age", "AGED 81, LIVES ALONE", ["81"]),
    ("age", "gave 40 mg iv", []),
    ("age", "aged 400 years of wine", []),
    ("street_address", "Ship it to 1042 Larkspur Avenue, Millbrook please", ["1042 Larkspur Avenue, Millbrook"]),
    ("street_address", "i live at 77 quince street", ["77 quince street"]),
    ("street_address", "Mail: P.O. Box 3321", ["P.O. Box 3321"]),
    ("street_address", "ordered 2 boxes for the street party", []),
    ("street_address", "CT 2 mediastinal tubes, SBP 130", []),
    ("postal_code", "zip code is 90210-1234", ["90210-1234"]),
    ("postal_code", "Post to SW1A 2AA today", ["SW1A 2AA"]),
    ("postal_code", "it cost 45000 dollars", []),
    ("url", "see https://example.org/path?q=1 for details", ["https://example.org/path?q=1"]),
    ("url", "visit shop-example.com today", ["shop-example.com"]),
    ("url", "pt comfortable.Pt denies pain", []),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES)
def test_recognizer_cases(name: str, text: str, expected: list[str]) -> None:
    rec = RECOGNIZERS[name]()
    got = found(rec, text)
    if expected:
        for want in expected:
            assert want in got, f"{name}: expected {want!r} in {got!r}"
    else:
        assert got == [], f"{name}: expected nothing, got {got!r}"


@pytest.mark.parametrize(("text", "expected"), [
    ("Call me at (212) 555-0187 tonight", ["(212) 555-0187"]),
    ("reach me on +44 7700 900123", ["+44 7700 900123"]),
    ("ABG 65/41/7.29/19/-2 improving", []),
    ("the total was 1234567 units", []),
    ("CELL-617 555 0199 & HOME-617 555 0142", ["617 555 0199", "617 555 0142"]),
    ("range 10-617 555 0199", []),
])
def test_phone_recognizer(text: str, expected: list[str]) -> None:
    rec = ClearhousePhoneRecognizer(["US", "GB"])
    got = [text[c.start:c.end] for c in rec.find(text) if c.score >= 0.5] if rec.applies(text) else []
    assert got == expected


def test_policy_recognizer_patterns_and_deny_list() -> None:
    policy = parse_policy("""
id: t
owner: me
purpose: testing custom recognizers here
ethics_risk: E0
source: {path: x.csv}
columns: {a: {role: feature, treatment: keep}}
detection:
  recognizers:
    - entity: BADGE_ID
      patterns: [{name: badge, regex: 'BDG\\d{5}', score: 0.4}]
      context: [badge]
    - entity: PROJECT
      deny_list: [Bluebird, Nightjar]
""")
    recs = {r.name: r for r in build_recognizers(policy.detection) if isinstance(r, PolicyPatternRecognizer)}
    badge = recs["policy_badge_id_0"]
    assert [(c.score, c.context) for c in badge.find("my BDG12345")] == [(0.4, frozenset({"badge"}))]
    project = recs["policy_project_1"]
    assert [c.entity_type for c in project.find("the nightjar plan, not Bluebirds")] == ["PROJECT"]


@pytest.mark.parametrize(("fn", "value", "ok"), [
    (luhn_ok, "4539 1488 0343 6467", True),
    (luhn_ok, "4539 1488 0343 6468", False),
    (iban_ok, "GB82 WEST 1234 5698 7654 32", True),
    (iban_ok, "GB82 WEST 1234 5698 7654 33", False),
    (ssn_ok, "536-22-8741", True),
    (ssn_ok, "000-22-8741", False),
    (ssn_ok, "666-22-8741", False),
    (ssn_ok, "936-22-8741", False),
])
def test_validators(fn: object, value: str, ok: bool) -> None:
    assert fn(value) is ok  # type: ignore[operator]


def test_phone_validator_by_region() -> None:
    assert phone_ok("(415) 555-2671", ["US"])
    assert not phone_ok("12345", ["US"])
