"""Keep detection off the network.

Two things in the stack would otherwise reach out at run time:

* Presidio's ``SpacyNlpEngine`` calls ``spacy.cli.download`` when the configured model is not installed;
  we check the model is importable first and fail closed instead.
* Presidio's email recognizer calls ``tldextract.extract``, whose default extractor fetches the public
  suffix list over HTTP before falling back to its bundled snapshot. We replace that default extractor
  with one that has no suffix-list URLs, so it always uses the snapshot shipped in the wheel.
"""

from __future__ import annotations

import logging
from pathlib import Path

from clearhouse.errors import DetectionError

_patched = False


def ensure_offline() -> None:
    """Make tldextract use its bundled suffix list only (idempotent)."""
    global _patched  # noqa: PLW0603 - a process-wide, idempotent patch
    if _patched:
        return
    import tldextract  # noqa: PLC0415 - patched once, when the first detector is built
    import tldextract.tldextract as impl  # noqa: PLC0415 - see above

    impl.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
    # Presidio logs recognizer decisions at DEBUG/INFO (they can quote text) and a per-document WARNING
    # for every unmapped spaCy label (thousands of lines per run). Errors still get through.
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    logging.getLogger("presidio-anonymizer").setLevel(logging.ERROR)
    _patched = True


def require_installed_model(model_name: str) -> None:
    """Fail closed (no download) when the spaCy model is not installed."""
    import spacy.util  # noqa: PLC0415 - heavy (spaCy): only when a detector is built

    if spacy.util.is_package(model_name) or Path(model_name).is_dir():
        return
    raise DetectionError(
        f"spaCy model {model_name!r} is not installed and will not be downloaded at run time; "
        "install it from the package index (see requirements.lock) or set CLEARHOUSE_SPACY_MODEL"
    )
