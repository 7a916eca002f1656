"""Validation gate: Great Expectations 1.x suites per dataset, Clearhouse's custom expectations,
the checkpoint runner with PII-free Data Docs, and the per-version privacy report.

Importing this package is cheap (no GX import). The entry points are::

    from clearhouse.validation.suites import load_or_create_suite      # policy → suite JSON (first run)
    from clearhouse.validation.gate import validate_version            # run the gate over a cleared version
    from clearhouse.validation.report import write_privacy_report      # one self-contained HTML page
    from clearhouse.validation.residual import set_residual_detector   # inject the (heavy) NER detector

Great Expectations must never reach the network: its analytics switch is turned off here, before any
submodule can import it.
"""

from __future__ import annotations

if __name__ != "clearhouse.validation":  # one module, one name: the folder is installed as clearhouse.validation
    raise ImportError("import clearhouse.validation; the expectations/ folder is not a top-level package")

import os

# Before anything imports great_expectations. Forced rather than setdefault: no environment may turn
# analytics (network calls) back on for the gate.
os.environ["GX_ANALYTICS_ENABLED"] = "False"

# After the switch above: nothing below imports GX.
from clearhouse.validation.residual import get_residual_detector, set_residual_detector

__all__ = ["get_residual_detector", "set_residual_detector"]
