"""Clearhouse's custom GX 1.x expectations.

GX registers an expectation class when it is defined, under the snake_case of its class name, so
importing this package makes every type below usable from suite JSON (``"type": "expect_k_anonymity"``).
Each module holds one expectation; :mod:`expectations.custom.metrics` holds their metrics.
"""

from __future__ import annotations

from clearhouse.validation.custom.expect_column_group_representation import ExpectColumnGroupRepresentation
from clearhouse.validation.custom.expect_column_label_balance import ExpectColumnLabelBalance
from clearhouse.validation.custom.expect_columns_to_be_absent import ExpectColumnsToBeAbsent
from clearhouse.validation.custom.expect_k_anonymity import ExpectKAnonymity
from clearhouse.validation.custom.expect_l_diversity import ExpectLDiversity
from clearhouse.validation.custom.expect_label_parity_across_groups import ExpectLabelParityAcrossGroups
from clearhouse.validation.custom.expect_no_own_identifiers import ExpectNoOwnIdentifiers
from clearhouse.validation.custom.expect_no_residual_pii import ExpectNoResidualPii

#: expectation type → class, for every custom expectation
CUSTOM_EXPECTATIONS = {
    cls.expectation_type: cls
    for cls in (
        ExpectColumnLabelBalance,
        ExpectColumnGroupRepresentation,
        ExpectLabelParityAcrossGroups,
        ExpectKAnonymity,
        ExpectLDiversity,
        ExpectNoResidualPii,
        ExpectNoOwnIdentifiers,
        ExpectColumnsToBeAbsent,
    )
}

__all__ = [
    "CUSTOM_EXPECTATIONS",
    "ExpectColumnGroupRepresentation",
    "ExpectColumnLabelBalance",
    "ExpectColumnsToBeAbsent",
    "ExpectKAnonymity",
    "ExpectLDiversity",
    "ExpectLabelParityAcrossGroups",
    "ExpectNoOwnIdentifiers",
    "ExpectNoResidualPii",
]
