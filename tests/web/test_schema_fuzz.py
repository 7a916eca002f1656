"""The portal's OpenAPI schema, fuzzed with schemathesis over every operation, signed in as the role each
route is for, on versions a real run produced: whatever the input, no server error (5xx)."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from clearhouse.web import create_app
from tests.web.conftest import PortalState  # type: ignore[import-not-found]

pytestmark = pytest.mark.slow


def _token_for(path: str, state: PortalState) -> str:
    if path.startswith(("/labeler", "/api/cleared")):
        return state.people.tokens["lara"]
    if path.startswith(("/engineer", "/api/datasets")):
        return state.people.tokens["erin"]
    return state.people.tokens["olivia"]


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], calls: dict[str, int]) -> None:
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])
        calls[operation.label] = calls.get(operation.label, 0) + 1

    try:
        fuzz()
    except hypothesis.errors.Unsatisfiable:
        # an operation without parameters has no invalid input to generate
        assert mode is GenerationMode.NEGATIVE and not operation.path_parameters and not operation.body
        return


def test_no_input_makes_the_portal_fail(portal_state: PortalState) -> None:
    app = create_app(portal_state.settings)
    officer = {"Authorization": f"Bearer {portal_state.people.tokens['olivia']}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=officer)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 12
    calls: dict[str, int] = {}
    for operation in operations:
        headers = {"Authorization": f"Bearer {_token_for(operation.path, portal_state)}"}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, headers, calls)
    assert len(calls) == len(operations)  # every operation was called
