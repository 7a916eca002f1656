"""Keyed pseudonyms: stable across runs and datasets of one scope, unrelated across scopes."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest
from crypto_helpers import make_policy, psd

from clearhouse.errors import ProtectionError
from clearhouse.privacy.crypto import LocalKeyringProvider, Pseudonymiser, protect_table

TOKEN = re.compile(r"psd_[0-9a-f]{32}")


def test_token_shape_and_equality(local: LocalKeyringProvider) -> None:
    pseudo = Pseudonymiser(local.purpose_key("triage"))
    token = pseudo.pseudonym("alice@example.com")
    assert TOKEN.fullmatch(token)
    assert pseudo.pseudonym("alice@example.com") == token
    assert pseudo.pseudonym("bob@example.com") != token


def test_equal_across_runs_and_datasets_sharing_a_scope(keys_dir: Path, master_key: str) -> None:
    emails = ["alice@example.com", "bob@example.com", None]
    # two provider instances = two separate runs; two datasets share purpose_id "triage"
    run1, _ = protect_table(
        pa.table({"email": emails}),
        make_policy({"email": psd()}, policy_id="intake", purpose_id="triage"),
        LocalKeyringProvider(keys_dir),
        dataset="intake",
        version="v1",
    )
    run2, _ = protect_table(
        pa.table({"email": emails}),
        make_policy({"email": psd()}, policy_id="followups", purpose_id="triage"),
        LocalKeyringProvider(keys_dir),
        dataset="followups",
        version="v7",
    )
    assert run1.column("email").to_pylist() == run2.column("email").to_pylist()
    assert run1.column("email").to_pylist()[2] is None


def test_different_scopes_give_unrelated_tokens(local: LocalKeyringProvider) -> None:
    a = Pseudonymiser(local.purpose_key("triage")).pseudonym("alice@example.com")
    b = Pseudonymiser(local.purpose_key("billing")).pseudonym("alice@example.com")
    assert a != b


def test_scope_defaults_to_dataset_id(local: LocalKeyringProvider) -> None:
    table = pa.table({"email": ["alice@example.com"]})
    out_a, res_a = protect_table(
        table, make_policy({"email": psd()}, policy_id="intake"), local, dataset="intake", version="v1"
    )
    out_b, res_b = protect_table(
        table, make_policy({"email": psd()}, policy_id="visits"), local, dataset="visits", version="v1"
    )
    assert (res_a.column("email").scope, res_b.column("email").scope) == ("intake", "visits")
    assert out_a.column("email").to_pylist() != out_b.column("email").to_pylist()


@pytest.mark.parametrize(
    ("normalise", "variants", "equal"),
    [
        ("none", ["Alice@Example.com", "alice@example.com"], False),
        ("none", [" alice", "alice"], False),
        ("strip", [" alice\t", "alice"], True),
        ("strip", ["Alice", "alice"], False),
        ("casefold", ["ALICE", "alice"], True),
        ("casefold", ["STRASSE", "straße"], True),
        ("casefold", ["ﬁle", "FILE"], True),  # NFKC folds the ligature
        ("casefold", [" alice", "alice"], False),
        ("strip_casefold", ["  Alice@Example.COM ", "alice@example.com"], True),
    ],
)
def test_normalisation(local: LocalKeyringProvider, normalise: str, variants: list[str], equal: bool) -> None:
    pseudo = Pseudonymiser(local.purpose_key("triage"), normalise=normalise)
    tokens = {pseudo.pseudonym(v) for v in variants}
    assert (len(tokens) == 1) is equal


def test_non_strings_meet_their_text_form(local: LocalKeyringProvider) -> None:
    pseudo = Pseudonymiser(local.purpose_key("triage"))
    assert pseudo.pseudonym(42) == pseudo.pseudonym("42")


def test_unknown_normalisation_is_refused(local: LocalKeyringProvider) -> None:
    with pytest.raises(ProtectionError, match="unknown pseudonym normalisation 'lower'"):
        Pseudonymiser(local.purpose_key("triage"), normalise="lower")
    table = pa.table({"email": ["alice@example.com"]})
    with pytest.raises(ProtectionError, match="column 'email' of dataset 'patients' version 'v1'"):
        protect_table(
            table, make_policy({"email": psd(normalise="lower")}), local, dataset="patients", version="v1"
        )


def test_pseudonyms_survive_kek_rotation(local: LocalKeyringProvider) -> None:
    before = Pseudonymiser(local.purpose_key("triage")).pseudonym("alice")
    local.rotate_kek()
    local.retire_kek(1)
    assert Pseudonymiser(local.purpose_key("triage")).pseudonym("alice") == before
