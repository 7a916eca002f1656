"""Redaction of free text before it reaches a lineage event, a log line or the lineage store.

Lineage events leave the process (file, database, an OpenLineage backend such as Marquez), so they
must never carry personal data or key material. Events are built from names, paths, schemas, counts
and digests; the only *free text* in them is error messages and a few small facts. Both pass through
:func:`redact` here, which errs on the side of removing too much:

* PEM blocks (``-----BEGIN ... KEY-----``) become ``[pem]``;
* credentials in URLs (``scheme://user:password@host``) become ``scheme://[credentials]@host``;
* e-mail addresses become ``[email]``;
* long opaque tokens (32+ characters of letters, digits, ``+/=_-``, with both a letter and a digit:
  keys, hex digests, base64 blobs, API tokens) become ``[secret]``;
* any run of 7 or more digits, also when split by spaces, dots, dashes, slashes or parentheses
  (phone numbers, national IDs, card numbers, IBAN tails, IP addresses, dates) becomes ``[number]``;
* control characters and newlines collapse to single spaces, and the result is capped in length.

Identifiers chosen by the policy (dataset names, namespaces, job names, paths) legitimately contain
dates, versions and digests, so :func:`redact_identifier` applies only the rules that can never be
legitimate in an identifier (PEM blocks, URL credentials, e-mail addresses) plus the length cap.
"""

from __future__ import annotations

import re

__all__ = ["MAX_IDENTIFIER_LENGTH", "MAX_TEXT_LENGTH", "redact", "redact_identifier"]

#: default cap for free text (error messages); OpenLineage backends show it in a single line
MAX_TEXT_LENGTH = 500
#: default cap for identifiers (names, namespaces, column names)
MAX_IDENTIFIER_LENGTH = 256

_ELLIPSIS = "…"

# The look-behinds make each pattern start only at the beginning of a run of its characters: without
# them a long run with no match is rescanned from every position (quadratic time on a large message).
_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|$)", re.DOTALL)
_URL_CREDENTIALS = re.compile(r"(?<![A-Za-z0-9+.-])(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_TOKEN = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{32,}")
# A digit, then digits/separators, then a digit: candidates for phone numbers and ID numbers. Whether
# a candidate is long enough to redact is decided by counting its digits (see _number).
_NUMBER = re.compile(r"(?<!\d)\+?\(?\d[\d\s().\-/]*\d")
_MIN_DIGITS = 7
_CONTROL = re.compile(r"[\x00-\x1f\x7f\s]+")
# Longer input is cut (at a word boundary) before the patterns run, to bound the work per message.
_MAX_INPUT = 65_536


def _token(match: re.Match[str]) -> str:
    text = match.group(0)
    has_digit = any(c.isdigit() for c in text)
    has_alpha = any(c.isalpha() for c in text)
    return "[secret]" if has_digit and has_alpha else text


def _number(match: re.Match[str]) -> str:
    text = match.group(0)
    if sum(c.isdigit() for c in text) < _MIN_DIGITS:
        return text
    return "[number]"


def _cap(text: str, max_len: int) -> str:
    if max_len <= 0:
        return ""
    if len(text) <= max_len:
        return text
    return text[: max_len - len(_ELLIPSIS)] + _ELLIPSIS


def _bounded(text: str) -> str:
    if len(text) <= _MAX_INPUT:
        return text
    # Drop the word cut in half, so that no fragment of an address or number escapes the patterns.
    head = text[:_MAX_INPUT]
    return head[: max(head.rfind(" "), 0)] + " [truncated]"


def _common(text: str) -> str:
    text = _PEM.sub("[pem]", _bounded(text))
    text = _URL_CREDENTIALS.sub(r"\g<scheme>[credentials]@", text)
    return _EMAIL.sub("[email]", text)


def redact(text: object, *, max_len: int = MAX_TEXT_LENGTH) -> str:
    """Return ``text`` (converted with ``str``) with personal data and secrets removed, capped.

    Use for every piece of free text that may end up in a lineage event, the lineage store or a log
    line: exception messages, fact values. Over-redaction is deliberate: a lineage message that says
    ``[number]`` instead of a date costs little; one that carries a phone number is a data leak.
    """
    result = _common(str(text))
    result = _TOKEN.sub(_token, result)
    result = _NUMBER.sub(_number, result)
    result = _CONTROL.sub(" ", result).strip()
    return _cap(result, max_len)


def redact_identifier(text: object, *, max_len: int = MAX_IDENTIFIER_LENGTH) -> str:
    """Return an identifier (dataset/job name, namespace, path) safe to put in an event.

    Digits, digests and versions are kept, because they are what makes an identifier unique; only
    what never belongs in an identifier (e-mail addresses, URL credentials, PEM blocks, control
    characters) is removed, and the length is capped.
    """
    result = _CONTROL.sub(" ", _common(str(text))).strip()
    return _cap(result, max_len)
