"""Detection must not touch the network: no model download, no public-suffix-list fetch."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from clearhouse.policy import Detection
from clearhouse.settings import load_settings


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    attempts: list[object] = []
    real = socket.socket.connect

    def record(self: socket.socket, address: object) -> object:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", record)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: record(None, a[0]))  # type: ignore[arg-type]
    yield attempts
    monkeypatch.setattr(socket.socket, "connect", real)


@pytest.mark.slow
def test_detector_finds_emails_and_urls_without_any_connection(connections: list[object]) -> None:
    from clearhouse.privacy.detection.text import PresidioTextDetector

    detector = PresidioTextDetector(Detection(), load_settings().spacy_model)
    spans = detector.detect_many(["write to ann.lee@example.co.uk or visit https://example.org/help"])[0]
    assert "EMAIL_ADDRESS" in {s.entity_type for s in spans}
    assert connections == []


def test_missing_model_is_refused_not_downloaded(connections: list[object]) -> None:
    from clearhouse.errors import DetectionError
    from clearhouse.privacy.detection.offline import require_installed_model

    with pytest.raises(DetectionError, match="will not be downloaded"):
        require_installed_model("en_core_web_trf_not_installed")
    assert connections == []
