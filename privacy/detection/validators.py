"""Checksum and rule validators shared by column classification (and usable by recognizers)."""

from __future__ import annotations

import re

import phonenumbers

_NON_DIGIT = re.compile(r"\D")


def luhn_ok(value: str) -> bool:
    """Luhn checksum of the digits in ``value`` (payment card numbers), 12-19 digits."""
    digits = _NON_DIGIT.sub("", value)
    if not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(value: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    s = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", s):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def ssn_ok(value: str) -> bool:
    """US SSN structural rules: area not 000, 666 or 900-999; group not 00; serial not 0000;
    not a run of one digit or the well-known advertising numbers."""
    digits = _NON_DIGIT.sub("", value)
    if len(digits) != 9 or len(set(digits)) == 1:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in {"000", "666"} or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return digits not in {"078051120", "219099999", "123456789"}


def phone_ok(value: str, regions: list[str]) -> bool:
    """A valid phone number for one of ``regions`` (or in international form)."""
    for region in regions or ["US"]:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False
