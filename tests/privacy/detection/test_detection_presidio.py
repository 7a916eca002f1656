"""Detection through Presidio's extension points: the ``AnalyzerEngine`` and its ``RecognizerRegistry``,
a user's ``EntityRecognizer``, recognizer YAML in the policy, allow lists, an analyzer configuration
file. Every string here is synthetic and written for these tests."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from clearhouse.catalog import Catalog
from clearhouse.errors import DetectionError, PolicyError
from clearhouse.policy import Detection, load_policy, parse_policy
from clearhouse.privacy.detection.analyzer import load_analyzer_file
from clearhouse.privacy.detection.recognizers.base import ClearhouseRecognizer
from clearhouse.privacy.detection.recognizers.spacy_ner import SpacyNerRecognizer
from clearhouse.privacy.detection.text import PresidioTextDetector
from clearhouse.sample import generate_support_tickets, write_table
from clearhouse.settings import REPO_ROOT, Settings
from clearhouse.stages.context import prepare
from clearhouse.stages.runner import run_all
from tests.privacy.detection.conftest import POLICY_HEAD  # type: ignore[import-not-found]

BADGE_YAML = """\
detection:
  recognizers:
    - name: badge_recognizer
      supported_entity: BADGE_ID
      supported_language: en
      patterns:
        - {name: badge, regex: 'BDG-\\d{5}', score: 0.3}
      context: [badge]
    - name: project_recognizer
      supported_entity: PROJECT
      deny_list: [Bluebird, Nightjar]
"""


def found(detector: PresidioTextDetector, text: str) -> dict[str, str]:
    (spans,) = detector.detect_many([text])
    return {text[s.start:s.end]: s.entity_type for s in spans}


class TicketCodeRecognizer(EntityRecognizer):
    """A user's own Presidio recognizer (not a Clearhouse class): ticket codes such as TCK/4471."""

    def load(self) -> None: ...

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        start = text.find("TCK/")
        return [] if start < 0 else [RecognizerResult("TICKET_CODE", start, start + 8, 0.9)]


def test_detection_runs_through_analyzer_engines(us_detector: PresidioTextDetector) -> None:
    analyzer = us_detector.analyzer
    assert isinstance(analyzer.patterns.analyzer_engine, AnalyzerEngine)
    assert analyzer.nlp is not None and isinstance(analyzer.nlp.analyzer_engine, AnalyzerEngine)
    registered = analyzer.registry.recognizers
    # Clearhouse's recognizers, Presidio's predefined ones and the NLP recognizer share one registry
    assert all(isinstance(r, EntityRecognizer) for r in registered)
    assert any(isinstance(r, ClearhouseRecognizer) and r.name == "title_name" for r in registered)
    assert any(r.name == "presidio_CreditCardRecognizer" for r in registered)
    assert [type(r) for r in analyzer.nlp.analyzer_engine.registry.recognizers] == [SpacyNerRecognizer]


def test_a_users_entity_recognizer_participates(model_name: str) -> None:
    det = PresidioTextDetector(Detection(), model_name, processes=1, use_ner=False)
    text = "see TCK/4471 for the details"
    assert "TCK/4471" not in found(det, text)
    det.add_recognizer(TicketCodeRecognizer(supported_entities=["TICKET_CODE"]))
    assert found(det, text)["TCK/4471"] == "TICKET_CODE"


def test_presidio_yaml_recognizers_in_the_policy(model_name: str) -> None:
    policy = parse_policy(POLICY_HEAD + BADGE_YAML)
    det = PresidioTextDetector(policy.detection, model_name, processes=1, use_ner=False)
    got = found(det, "BDG-54321 was printed on an old form. Project nightjar; badge BDG-12345.")
    assert got.get("BDG-12345") == "BADGE_ID"  # 0.3 + its context word: above the threshold
    assert "BDG-54321" not in got  # 0.3 without context stays below it
    assert got.get("nightjar") == "PROJECT"  # Presidio's deny lists ignore case
    assert any(isinstance(r, PatternRecognizer) and r.name == "badge_recognizer" for r in det.recognizers)


@pytest.mark.parametrize(("entry", "message"), [
    ("    - {name: r, supported_entity: BADGE}\n", "at least one of 'patterns' or 'deny_list'"),
    ("    - {name: r, supported_entity: BADGE, patterns: [{name: p, regex: '(', score: 0.5}]}\n",
     "Invalid regex pattern"),
    ("    - {name: r, supported_entity: BADGE, patterns: [{name: p, regex: 'x', score: 2}]}\n",
     "between 0 and 1"),
    ("    - {name: r, supported_entity: BADGE, paterns: [], deny_list: [x]}\n", "unknown key"),
    ("    - {name: r, supported_entity: BADGE, supported_language: de, deny_list: [x]}\n", "language 'de'"),
    ("    - {name: CreditCardRecognizer, type: predefined}\n", "analyzer_config"),
])
def test_bad_presidio_yaml_is_a_clear_policy_error(entry: str, message: str) -> None:
    with pytest.raises(PolicyError, match=r"p\.yaml: line \d+: detection") as err:
        parse_policy(POLICY_HEAD + "detection:\n  recognizers:\n" + entry, "p.yaml")
    assert message in str(err.value)


@pytest.mark.parametrize(("match", "allow", "kept"), [
    # exact: the matched text as written (Presidio's rule)
    ("exact", ["support@example.org"], {"billing@example.org"}),
    ("exact", ["SUPPORT@example.org"], {"support@example.org", "billing@example.org"}),
    # regex: searched in the matched text, case-insensitive
    ("regex", [r"^support@"], {"billing@example.org"}),
    ("regex", [r"@EXAMPLE\.org$"], set()),
])
def test_allow_list_exact_and_regex(model_name: str, match: str, allow: list[str], kept: set[str]) -> None:
    det = PresidioTextDetector(Detection(allow_list=allow, allow_list_match=match), model_name,  # type: ignore[arg-type]
                               processes=1, use_ner=False)
    got = found(det, "write to support@example.org or billing@example.org")
    assert {k for k, v in got.items() if v == "EMAIL_ADDRESS"} == kept


def test_allow_list_regex_must_compile() -> None:
    with pytest.raises(PolicyError, match="allow_list entry"):
        parse_policy(POLICY_HEAD + "detection: {allow_list_match: regex, allow_list: ['(']}\n")


ANALYZER_CONFIG = """\
supported_languages: [en]
default_score_threshold: 0.6
context_aware_enhancer:
  context_prefix_count: 3
nlp_configuration:
  nlp_engine_name: spacy
  models: [{lang_code: en, model_name: en_core_web_lg}]
recognizer_registry:
  recognizers:
    - name: ZipLikeRecognizer
      type: custom
      supported_entity: LOCKER_CODE
      supported_language: en
      patterns: [{name: locker, regex: '\\bLK\\d{4}\\b', score: 0.35}]
      context: [locker]
    - name: UkNinoRecognizer
      type: predefined
    - name: SpacyRecognizer
      type: predefined
"""


def _policy_with_config(tmp_path: Path, config: str, ref: str = "analyzer.yaml",
                        detection: str = "") -> Path:
    (tmp_path / "analyzer.yaml").write_text(config)
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_HEAD + f"detection:\n  analyzer_config: {ref}\n{detection}")
    return path


def test_analyzer_config_file_is_honoured(tmp_path: Path, model_name: str) -> None:
    policy = load_policy(_policy_with_config(tmp_path, ANALYZER_CONFIG))
    assert policy.detection.analyzer_config == str((tmp_path / "analyzer.yaml").resolve())
    det = PresidioTextDetector(policy.detection, model_name, processes=1, use_ner=False)
    assert det.threshold == 0.6  # the file's default_score_threshold (the policy set none)
    assert det.analyzer.enhancer.context_prefix_count == 3
    names = {r.name for r in det.recognizers}
    assert {"ZipLikeRecognizer", "UkNinoRecognizer"} <= names
    assert "SpacyRecognizer" not in names  # NLP recognizers: Clearhouse's reads the model
    got = found(det, "locker LK1234 holds the parcel; LK5678 is empty; her nino: JG 10 37 64 A")
    assert got.get("LK1234") == "LOCKER_CODE"  # 0.35 + context 0.35 ≥ 0.6
    assert got.get("LK5678") != "LOCKER_CODE"  # (0.35 alone; Clearhouse may still call it an ID)
    assert got.get("JG 10 37 64 A") == "UK_NINO"  # predefined, 0.5 + its context word "nino"


def test_policy_threshold_wins_over_the_config_file(tmp_path: Path, model_name: str) -> None:
    policy = load_policy(_policy_with_config(tmp_path, ANALYZER_CONFIG, detection="  threshold: 0.3\n"))
    det = PresidioTextDetector(policy.detection, model_name, processes=1, use_ner=False)
    assert det.threshold == 0.3


@pytest.mark.parametrize(("config", "ref", "message"), [
    (ANALYZER_CONFIG, "missing.yaml", "is not a file"),
    (ANALYZER_CONFIG, "../analyzer.yaml", "outside the policy file's folder"),
    (ANALYZER_CONFIG, "/etc/passwd", "relative to the policy file's folder"),
    ("supported_languages: [en]\nunknown_key: 1\n", "analyzer.yaml", "Unknown configuration key"),
    ("supported_languages: [de]\n", "analyzer.yaml", "does not include the policy's detection.language"),
    ("recognizer_registry:\n  recognizers: [{name: NoSuchRecognizer, type: predefined}]\n", "analyzer.yaml",
     "invalid Presidio analyzer configuration"),
    ("a: [unclosed\n", "analyzer.yaml", "analyzer.yaml: line"),
])
def test_bad_analyzer_config_is_refused(tmp_path: Path, config: str, ref: str, message: str) -> None:
    with pytest.raises(PolicyError, match="analyzer") as err:
        load_policy(_policy_with_config(tmp_path, config, ref))
    assert message in str(err.value)


def test_symlink_out_of_the_policy_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(ANALYZER_CONFIG)
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "link.yaml").symlink_to(outside)
    path = folder / "policy.yaml"
    path.write_text(POLICY_HEAD + "detection:\n  analyzer_config: link.yaml\n")
    with pytest.raises(PolicyError, match="outside the policy file's folder"):
        load_policy(path)


def test_analyzer_config_needs_a_policy_file() -> None:
    with pytest.raises(PolicyError, match="needs the policy to be read from a file"):
        parse_policy(POLICY_HEAD + "detection: {analyzer_config: analyzer.yaml}\n")


def test_a_recognizer_presidio_cannot_build_is_a_detection_error(tmp_path: Path) -> None:
    config = ("recognizer_registry:\n  recognizers:\n    - {name: Bad, type: custom, supported_entity: X, "
              "supported_language: en, patterns: [{name: p, regex: '(', score: 0.5}]}\n")
    (tmp_path / "a.yaml").write_text(config)
    with pytest.raises(DetectionError, match=r"analyzer configuration a\.yaml"):
        load_analyzer_file(tmp_path / "a.yaml", "en")


@pytest.mark.slow
def test_a_presidio_yaml_recognizer_works_in_a_whole_run(settings: Settings, tmp_path: Path) -> None:
    """The sample policy with its order-number recognizer rewritten in Presidio's YAML: the run's detect
    stage reports the entity, and the cleared messages no longer hold any order number."""
    text = (REPO_ROOT / "datasets" / "support_tickets.yaml").read_text()
    short = ("    - entity: ORDER_NUMBER\n      patterns:\n"
             "        - {name: order_code, regex: '\\b(?:ORD|ord|A)-\\d{6}\\b', score: 0.8}\n")
    assert short in text
    presidio = ("    - name: order_number_recognizer\n      supported_entity: ORDER_NUMBER\n"
                "      supported_language: en\n      patterns:\n"
                "        - {name: order_code, regex: '\\b(?:ORD|A)-\\d{6}\\b', score: 0.8}\n")
    policy = tmp_path / "policy.yaml"
    # (k and l relaxed: a 300-row sample has small classes; the gates are not under test here)
    policy.write_text(text.replace(short, presidio).replace("k_anonymity: 5", "k_anonymity: 1").replace("l: 2", "l: 1"))
    src = settings.home / "tickets.csv"
    write_table(generate_support_tickets(300, seed=3), src)
    ctx = prepare(policy, source=src, settings=settings)
    assert run_all(ctx) == "cleared"
    info = Catalog(settings.db_url).get(ctx.dataset, ctx.version).info
    assert info["pii_found"]["message"].get("ORDER_NUMBER", 0) > 0
    cleared = pq.read_table(settings.zone("cleared") / ctx.dataset / ctx.version / "data.parquet")
    messages = [m for m in cleared.column("message").to_pylist() if m]
    assert messages and not any(re.search(r"\b(?:ORD|ord|A)-\d{6}\b", m) for m in messages)
