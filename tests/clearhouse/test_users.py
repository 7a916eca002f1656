"""Identity that cannot be claimed: users and API tokens in the catalog (argon2 hashes only), roles,
labeler certification, and every refusal recorded — through the acts and through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from clearhouse.acts import officer
from clearhouse.acts.users import (
    FIRST_OFFICER_FILE,
    User,
    authenticate,
    certify,
    create_first_officer,
    ensure,
    list_users,
    reissue_token,
    require,
    revoke,
)
from clearhouse.catalog import Catalog
from clearhouse.cli import main
from clearhouse.errors import AuthenticationError, ConfigError, PermissionDenied
from clearhouse.governance.record import ledger_for
from clearhouse.settings import Settings
from tests.conftest import add_user, first_officer  # type: ignore[import-not-found]

TODAY = datetime.now(UTC).date()


def _refusals(settings: Settings) -> list[dict[str, object]]:
    return [e for e in Catalog(settings.db_url).audit_log() if e["action"] == "access_refused"]


def test_init_creates_one_first_officer_with_a_private_token_file(settings: Settings) -> None:
    path = create_first_officer(settings)
    assert path == settings.home / FIRST_OFFICER_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    token = path.read_text().strip()
    user = authenticate(settings, token, act="test")
    assert (user.name, user.role, user.revoked) == ("officer", "officer", False)
    # an officer exists: a second init creates nobody and leaves the file alone
    assert create_first_officer(settings) is None
    assert path.read_text().strip() == token
    assert [u.name for u in Catalog(settings.db_url).users()] == ["officer"]
    # only an argon2id hash is stored: the token itself is nowhere in the catalog
    record = Catalog(settings.db_url).users()[0]
    assert record.token_hash.startswith("$argon2id$") and token not in record.token_hash
    assert token.encode() not in Path(settings.db_url.removeprefix("sqlite:///")).read_bytes()
    actions = [(e["action"], e["actor"]) for e in Catalog(settings.db_url).audit_log()]
    assert ("user_add", "clearhouse-init") in actions


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (None, "no token"),
        ("", "no token"),
        ("let-me-in", "malformed token"),
        ("ch_0123456789ab_" + "A" * 43, "unknown token"),
    ],
)
def test_missing_malformed_or_unknown_tokens_are_refused_and_recorded(
    settings: Settings, token: str | None, why: str
) -> None:
    first_officer(settings)
    with pytest.raises(AuthenticationError):
        authenticate(settings, token, act="approve")
    refusal = _refusals(settings)[-1]
    expected = {"act": "approve", "why": why} | ({"token_id": "0123456789ab"} if "unknown" in why else {})
    assert refusal["detail"] == expected
    # and in the signed ledger
    assert ledger_for(settings).entries()[-1].kind == "access_refused"


def test_a_right_id_with_a_wrong_secret_is_refused(settings: Settings) -> None:
    _, token = first_officer(settings)
    forged = token[: len("ch_") + 12 + 1] + ("B" if token[-1] != "B" else "C") * 43
    with pytest.raises(AuthenticationError, match="not valid"):
        authenticate(settings, forged, act="decrypt")
    assert _refusals(settings)[-1]["detail"]["why"] == "unknown token"  # type: ignore[index]


def test_roles_and_labeler_certification(settings: Settings) -> None:
    _, eng_token = add_user(settings, "erin", "engineer")
    _, lab_token = add_user(settings, "lena", "labeler", certified_days=10)
    _, new_token = add_user(settings, "noor", "labeler", certified_days=None)
    boss, officer_token = first_officer(settings)

    assert require(settings, officer_token, "officer", act="approve").name == "officer"
    with pytest.raises(PermissionDenied, match="needs the officer role; 'erin' is a engineer"):
        require(settings, eng_token, "officer", act="approve")
    with pytest.raises(PermissionDenied, match="needs the labeler role"):
        require(settings, officer_token, "labeler", act="pull")  # officers decrypt; they do not pull

    lena = require(settings, lab_token, "labeler", act="pull")
    assert lena.certified_until == TODAY + timedelta(days=10) and lena.certified_by == "officer"
    with pytest.raises(PermissionDenied, match="'noor' is not certified"):
        require(settings, new_token, "labeler", act="pull")
    certify(settings, "noor", TODAY, by=boss)  # valid through the named day
    assert require(settings, new_token, "labeler", act="pull").certified_by == "officer"

    # time passes: yesterday's certification no longer holds
    Catalog(settings.db_url).update_user("lena", certified_until=TODAY - timedelta(days=1))
    with pytest.raises(PermissionDenied, match="certification expired on"):
        require(settings, lab_token, "labeler", act="pull")
    whys = [r["detail"]["why"] for r in _refusals(settings)]  # type: ignore[index]
    assert whys == [
        "role engineer, needs officer",
        "role officer, needs labeler",
        "labeler is not certified",
        f"labeler certification expired on {TODAY - timedelta(days=1)}",
    ]
    with pytest.raises(ConfigError, match="only labelers are certified"):
        certify(settings, "erin", TODAY, by=boss)
    with pytest.raises(ConfigError, match="in the past"):
        certify(settings, "lena", TODAY - timedelta(days=1), by=boss)


def test_revocation_and_new_tokens_take_effect_at_once(settings: Settings) -> None:
    boss, _ = first_officer(settings)
    lena, old = add_user(settings, "lena", "labeler")
    # a session that authenticated before the revocation is refused by the act itself
    session = require(settings, old, "labeler", act="pull")
    new = reissue_token(settings, "lena", by=boss)
    with pytest.raises(AuthenticationError):
        authenticate(settings, old, act="pull")
    assert authenticate(settings, new, act="pull").name == "lena"
    revoke(settings, "lena", by=boss)
    with pytest.raises(AuthenticationError, match="'lena' was revoked"):
        authenticate(settings, new, act="pull")
    with pytest.raises(AuthenticationError, match="revoked"):
        ensure(settings, session, "labeler", act="pull")
    # the last active officer cannot be revoked (nobody could administer the tool again)
    with pytest.raises(ConfigError, match="last active officer"):
        revoke(settings, "officer", by=boss)
    assert [u.name for u in list_users(settings, by=boss) if u.revoked] == ["lena"]
    assert lena.role == "labeler"


def test_a_hand_made_user_object_grants_nothing(settings: Settings, tmp_path: Path) -> None:
    add_user(settings, "lena", "labeler")
    # the acts re-check the acting user against the catalog: claiming a role in code does not work
    claimed = User("lena", "officer", None, None, False)
    with pytest.raises(PermissionDenied):
        officer.rotate_kek(settings, actor=claimed)
    with pytest.raises(AuthenticationError, match="unknown user"):
        officer.rotate_kek(settings, actor=User("mallory", "officer", None, None, False))


def test_users_cli_add_list_revoke(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import make_settings  # type: ignore[import-not-found]

    settings = make_settings(home)
    _, officer_token = first_officer(settings)
    monkeypatch.setenv("CLEARHOUSE_TOKEN", officer_token)
    until = (TODAY + timedelta(days=90)).isoformat()
    assert main(["users", "add", "lena", "--role", "labeler", "--certified-until", until, "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert set(added) == {"name", "role", "token"} and added["name"] == "lena" and added["role"] == "labeler"
    assert main(["users", "add", "erin", "--role", "engineer"]) == 0
    shown = capsys.readouterr().out
    assert "token (shown once" in shown and "ch_" in shown
    erin_token = shown.rsplit(": ", 1)[1].strip()

    assert main(["users", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {u["name"]: (u["role"], u["certified_until"], u["certified_by"]) for u in listed} == {
        "erin": ("engineer", None, None),
        "lena": ("labeler", until, "officer"),
        "officer": ("officer", None, None),
    }
    assert added["token"] not in json.dumps(listed)

    # bad input: exit 2, nothing added
    assert main(["users", "add", "Bad Name", "--role", "labeler"]) == 2
    assert main(["users", "add", "x", "--role", "wizard"]) == 2
    assert main(["users", "add", "y", "--role", "engineer", "--certified-until", until]) == 2
    assert main(["users", "add", "z", "--role", "labeler", "--certified-until", "31/12/2027"]) == 2
    assert main(["users", "add", "lena", "--role", "labeler"]) == 2  # names are never reused
    capsys.readouterr()

    # a labeler's token is no officer's: refused (exit 1) and recorded
    monkeypatch.setenv("CLEARHOUSE_TOKEN", added["token"])
    assert main(["users", "add", "mallory", "--role", "officer"]) == 1
    assert "needs the officer role" in capsys.readouterr().err
    assert _refusals(settings)[-1]["actor"] == "lena"

    monkeypatch.setenv("CLEARHOUSE_TOKEN", officer_token)
    assert main(["users", "revoke", "lena"]) == 0
    monkeypatch.setenv("CLEARHOUSE_TOKEN", added["token"])
    assert main(["pull", "support_tickets", "--to", str(tmp_path)]) == 1
    assert "'lena' was revoked" in capsys.readouterr().err
    assert [u.name for u in Catalog(settings.db_url).users()] == ["erin", "lena", "officer"]

    # the officer reads every refusal back; a labeler may not read the audit log
    monkeypatch.setenv("CLEARHOUSE_TOKEN", officer_token)
    assert main(["audit", "--action", "access_refused", "--json"]) == 0
    refusals = json.loads(capsys.readouterr().out)
    assert [(r["actor"], r["detail"]["act"], r["detail"]["why"]) for r in refusals] == [
        ("lena", "users add", "role labeler, needs officer"),
        ("lena", "pull", "revoked user"),
    ]
    assert main(["audit", "--actor", "officer"]) == 0
    text = capsys.readouterr().out
    assert "user_add" in text and "user_revoke" in text and added["token"] not in text
    monkeypatch.setenv("CLEARHOUSE_TOKEN", erin_token)
    assert main(["audit"]) == 1


def test_environment_names_and_os_users_grant_nothing(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import make_settings  # type: ignore[import-not-found]

    first_officer(make_settings(home))
    monkeypatch.setenv("CLEARHOUSE_ACTOR", "officer")  # the old way to claim a role
    monkeypatch.setenv("USER", "officer")
    monkeypatch.delenv("CLEARHOUSE_TOKEN", raising=False)
    for argv in (
        ["decrypt", "support_tickets", "--version", "20261125T101500Z-a1b2c3", "--to", str(tmp_path)],
        ["approve", "support_tickets", "--version", "20261125T101500Z-a1b2c3"],
        ["keys", "shred", "support_tickets"],
        ["keys", "rotate"],
        ["users", "add", "mallory", "--role", "officer"],
        ["pull", "support_tickets", "--to", str(tmp_path)],
    ):
        assert main(argv) == 1, argv
        assert "needs a token" in capsys.readouterr().err
    assert not (tmp_path / "support_tickets").exists()


def test_token_file_must_be_private(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import make_settings  # type: ignore[import-not-found]

    _, token = first_officer(make_settings(home))
    monkeypatch.delenv("CLEARHOUSE_TOKEN", raising=False)
    path = tmp_path / "officer.token"
    path.write_text(token + "\n")
    path.chmod(0o644)
    assert main(["users", "list", "--token-file", str(path)]) == 1
    assert "readable by others (mode 0644); `chmod 600" in capsys.readouterr().err
    settings = make_settings(home)
    assert _refusals(settings)[-1]["detail"] == {"act": "users list", "why": "unusable token file"}
    path.chmod(0o600)
    assert main(["users", "list", "--token-file", str(path)]) == 0
    assert "officer" in capsys.readouterr().out
    assert main(["users", "list", "--token-file", str(tmp_path / "missing")]) == 1


def test_engineer_commands_need_no_token(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from clearhouse.settings import REPO_ROOT

    assert main(["status", "--json"]) == 0
    assert main(["check-policy", str(REPO_ROOT / "datasets" / "support_tickets.yaml")]) == 0
    assert "needs a token" not in capsys.readouterr().err


def test_certification_dates_are_checked(settings: Settings) -> None:
    boss, _ = first_officer(settings)
    from clearhouse.acts.users import add_user as add

    with pytest.raises(ConfigError, match="in the past"):
        add(settings, "old", "labeler", by=boss, certified_until=date(2020, 1, 1))
    with pytest.raises(ConfigError, match="invalid user name"):
        add(settings, "../x", "labeler", by=boss)
