"""Social-media user names: "@quill_writer", "RT @marta_q". A handle names an account, and an account
is a person's identifier as much as an email address is.

An "@" that starts a word (not inside an email address or a URL) followed by 2 to 30 letters, digits
or underscores, at least one of them a letter, and no clock time ("@ 7pm", "@2pm").
"""

from __future__ import annotations

import re

from clearhouse.privacy.detection.recognizers.base import Candidate, ClearhouseRecognizer

_HANDLE = re.compile(r"(?<![\w.@/:+-])@(?!\d{1,2}(?:am|pm)\b)(?=\w{0,29}[^\W\d_])\w{2,30}(?![\w@]|\.\w)",
                     re.IGNORECASE)


class UsernameRecognizer(ClearhouseRecognizer):
    """USERNAME for an @handle (see the module docstring)."""

    name = "username"
    needs = "@"
    entities = ("USERNAME",)

    def find(self, text: str) -> list[Candidate]:
        return [Candidate(m.start(), m.end(), "USERNAME", 0.6) for m in _HANDLE.finditer(text)]
