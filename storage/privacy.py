"""Masking personal data that the bot need not keep, and pseudonyms for identifiers."""

from __future__ import annotations

import hashlib
import hmac
import re

# Dutch and international phone numbers: 06-12345678, 06 1234 5678, +31 6 12345678, 020-1234567.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d|0)[\d\s\-().]{7,}\d(?!\w)")
_DATE = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z]{4}(?:\s?\d{2,4}){2,5}\b")


def _mask_phone(match: re.Match[str]) -> str:
    found = match.group()
    digits = sum(character.isdigit() for character in found)
    # Short digit runs are house numbers or times; a leading date is a date.
    if not 9 <= digits <= 15 or _DATE.match(found):
        return found
    return "[telefoonnummer]"


def mask_personal_data(text: str) -> str:
    """The text with phone numbers, e-mail addresses and bank accounts replaced by a marker."""
    text = _EMAIL.sub("[e-mailadres]", text)
    text = _IBAN.sub("[rekeningnummer]", text)
    return _PHONE.sub(_mask_phone, text)


def pseudonym(key: str, value: str) -> str:
    """A stable keyed hash of an identifier: the same input gives the same pseudonym."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
