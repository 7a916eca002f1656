"""One exceptions module for the whole project.

Every error a user can see derives from :class:`ClearhouseError`. Messages name the cause (file, field,
line, column, stage) but never contain cell values or key material: they end up in Airflow task logs,
the catalog and reports.
"""

from __future__ import annotations


class ClearhouseError(Exception):
    """Base class of every Clearhouse error."""

    #: short machine-readable code stored in the catalog next to the message
    code: str = "error"


class ConfigError(ClearhouseError):
    """The environment or state directory is not usable."""

    code = "config"


class PolicyError(ClearhouseError):
    """A dataset policy is invalid or refused (e.g. ethics-risk level E4)."""

    code = "policy"


class IngestError(ClearhouseError):
    """The collected input is missing, malformed, wrongly encoded or does not match the policy."""

    code = "ingest"


class DetectionError(ClearhouseError):
    """Personal-data detection could not run or found something that blocks release."""

    code = "detection"


class MinimisationError(ClearhouseError):
    """A treatment could not be applied (bad parameters, unsupported type)."""

    code = "minimise"


class ProtectionError(ClearhouseError):
    """Encryption, pseudonymisation or key management failed."""

    code = "protect"


class KeyringError(ProtectionError):
    """The keyring is missing, locked, corrupted, or a key is retired/shredded."""

    code = "keyring"


class DecryptionError(ProtectionError):
    """A ciphertext failed authentication or its key is gone."""

    code = "decrypt"


class ValidationGateError(ClearhouseError):
    """A critical expectation failed: the version must not be released."""

    code = "validation"


class CatalogError(ClearhouseError):
    """The catalog refused an operation (unknown dataset/version, wrong state)."""

    code = "catalog"


class NotFoundError(CatalogError):
    """An unknown dataset or version was named: bad input (exit 2), like any other bad argument."""

    code = "not_found"


class ReleaseRefused(CatalogError):  # noqa: N818 - reads as a verdict: "release refused"
    """A pull or decrypt was refused (quarantined, shredded, unknown, not permitted)."""

    code = "refused"


class AuthenticationError(ClearhouseError):
    """No token, or a token that names no active user (unknown, wrong secret, revoked). Web: 401."""

    code = "unauthenticated"


class PermissionDenied(ClearhouseError):  # noqa: N818 - reads as a verdict, like Django's
    """An authenticated user may not do this act (wrong role; a labeler not certified or expired). Web: 403."""

    code = "forbidden"


class LineageError(ClearhouseError):
    """Lineage could not be recorded or verified. Never fails a data task by itself."""

    code = "lineage"


class StageError(ClearhouseError):
    """An unexpected error inside a pipeline stage, reported without the library's message (which may
    quote data); the full traceback is kept in the version's work zone."""

    code = "internal"
