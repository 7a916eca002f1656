"""Great Expectations plumbing shared by the gate and the tests: an offline, per-run ephemeral context.

Each run gets its own :class:`EphemeralDataContext` (in-memory stores), so runs never interfere and
GX writes nothing to disk except the Data Docs site, when one is asked for.
"""

from __future__ import annotations

# The package __init__ (always imported before this module) has already set GX_ANALYTICS_ENABLED.
from pathlib import Path
from typing import Any, Final

import great_expectations as gx
from great_expectations.data_context.data_context.ephemeral_data_context import EphemeralDataContext
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

#: Data Docs site name of the gate
SITE_NAME: Final = "clearhouse"

#: Aggregates only: counts and percentages, never the failing values, their rows or their indexes.
SAFE_RESULT_FORMAT: Final[dict[str, Any]] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 0,
    "exclude_unexpected_values": True,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
}


def make_context(docs_dir: Path | None = None) -> EphemeralDataContext:
    """A fresh offline in-memory context; with ``docs_dir``, a local Data Docs site rooted there."""
    sites: dict[str, Any] = {}
    if docs_dir is not None:
        sites[SITE_NAME] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    assert isinstance(context, EphemeralDataContext)  # narrows the type for mypy
    return context
