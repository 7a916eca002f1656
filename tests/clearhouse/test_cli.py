from __future__ import annotations

from pathlib import Path

import pytest

from clearhouse.cli import main
from clearhouse.settings import REPO_ROOT


def test_bad_policy_exits_2_and_names_the_field(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        (REPO_ROOT / "datasets" / "support_tickets.yaml").read_text().replace("ethics_risk: E2", "ethics_risk: E4")
    )
    assert main(["run", str(policy)]) == 2
    err = capsys.readouterr().err
    assert "ethics_risk: E4 (prohibited)" in err and "line" in err
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())


def test_missing_source_exits_2(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["run", str(REPO_ROOT / "datasets" / "support_tickets.yaml"), "--source", str(tmp_path / "nope.csv")]) == 2
    )
    assert "input not found" in capsys.readouterr().err


def test_pull_unknown_and_path_tricks_are_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import add_user, make_settings  # type: ignore[import-not-found]

    monkeypatch.setenv("CLEARHOUSE_TOKEN", add_user(make_settings(home), "lena", "labeler")[1])
    # an unknown dataset is bad input (exit 2) on every command, as any other bad argument
    assert main(["pull", "nothing_here", "--to", str(tmp_path)]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    assert main(["pull", "../etc", "--to", str(tmp_path)]) == 2
    assert "invalid dataset id" in capsys.readouterr().err
    assert main(["pull", "support_tickets", "--version", "../../x", "--to", str(tmp_path)]) == 2
    assert "invalid version id" in capsys.readouterr().err


def test_sample_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.parquet"
    assert main(["sample", "support-tickets", "--rows", "50", "--seed", "5", "--out", str(a)]) == 0
    assert main(["sample", "support-tickets", "--rows", "50", "--seed", "5", "--out", str(b)]) == 0
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    assert pacsv.read_csv(a).to_pylist()[0]["ticket_id"] == pq.read_table(b).to_pylist()[0]["ticket_id"]
    assert main(["sample", "support-tickets", "--rows", "5", "--out", str(tmp_path / "x.txt")]) == 2


def test_decrypt_needs_the_officer_role(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import add_user, make_settings  # type: ignore[import-not-found]

    monkeypatch.setenv("CLEARHOUSE_TOKEN", add_user(make_settings(home), "lena", "labeler")[1])
    assert main(["decrypt", "support_tickets", "--version", "20261125T101500Z-a1b2c3", "--to", str(tmp_path)]) == 1
    assert "decrypt needs the officer role; 'lena' is a labeler" in capsys.readouterr().err


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"clearhouse {version('clearhouse')}"


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "nothing_here"],
        ["status", "nothing_here", "--json"],
        ["lineage", "nothing_here"],
        ["pull", "nothing_here", "--to", "."],
        ["keys", "shred", "nothing_here"],
    ],
)
def test_unknown_dataset_is_bad_input_everywhere(
    home: Path, argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import add_user, first_officer, make_settings  # type: ignore[import-not-found]

    s = make_settings(home)
    token = add_user(s, "lena", "labeler")[1] if argv[0] == "pull" else first_officer(s)[1]
    monkeypatch.setenv("CLEARHOUSE_TOKEN", token)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "unknown dataset 'nothing_here'" in captured.err
    assert captured.out == ""


def test_status_and_check_policy_print_json(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["check-policy", str(REPO_ROOT / "datasets" / "support_tickets.yaml"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is True and doc["dataset"] == "support_tickets" and doc["ethics_risk"] == "E2"


def test_bad_setting_exits_2_naming_the_variable(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEARHOUSE_DETECT_PROCESSES", "many")
    assert main(["status"]) == 2
    assert "CLEARHOUSE_DETECT_PROCESSES" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    assert main(["no-such-command"]) == 2
    assert main(["sample", "support-tickets", "--rows", "0", "--out", "x.csv"]) == 2


def test_detection_profiles_are_checked_before_a_run(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (REPO_ROOT / "datasets" / "support_tickets.yaml").read_text()
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(text.replace("  threshold: 0.5\n", "  threshold: 0.5\n  profile: clinical\n"))
    bad.write_text(text.replace("  threshold: 0.5\n", "  threshold: 0.5\n  profile: [astrology]\n"))
    assert main(["check-policy", str(good)]) == 0
    assert main(["check-policy", str(bad)]) == 2
    assert "detection.profile: unknown profile(s) 'astrology'; available: clinical" in capsys.readouterr().err


def test_check_policy_reports_presidio_recognizers_and_analyzer_config(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (REPO_ROOT / "datasets" / "support_tickets.yaml").read_text()
    presidio = ("  recognizers:\n    - name: locker_recognizer\n      supported_entity: LOCKER_CODE\n"
                "      patterns: [{name: locker, regex: 'LK\\d{4}', score: 0.6}]\n")
    good = tmp_path / "good.yaml"
    good.write_text(text.replace("  recognizers:\n", "  analyzer_config: analyzer.yaml\n" + presidio, 1))
    (tmp_path / "analyzer.yaml").write_text("recognizer_registry:\n  recognizers:\n    - {name: UkNinoRecognizer}\n")
    assert main(["check-policy", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("  recognizers:\n", presidio.replace("score: 0.6", "score: 6"), 1))
    assert main(["check-policy", str(bad)]) == 2
    assert "detection.recognizers.0: Pattern score should be between 0 and 1" in capsys.readouterr().err
    (tmp_path / "analyzer.yaml").write_text(
        "recognizer_registry:\n  recognizers:\n    - {name: Bad, type: custom, supported_entity: X, "
        "supported_language: en, patterns: [{name: p, regex: '(', score: 0.5}]}\n")
    assert main(["check-policy", str(good)]) == 2
    assert "detection.analyzer_config: analyzer configuration analyzer.yaml" in capsys.readouterr().err
