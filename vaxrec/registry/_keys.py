"""Normalization shared by registry import and the matcher: both sides must agree exactly."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

__all__ = ["name_key", "normalize_email", "normalize_phone"]

# Separators people write or omit at will: "Mary-Kate" / "Mary Kate", "O'Brien" / "OBrien",
# "St. John" / "St John". Dashes cover the Unicode hyphen family that word processors insert.
_SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212'\u2018\u2019\u02bc`\u00b4.")

# Letters NFKD leaves whole although residents type them as their base letter ("Đặng" → "Dang").
_BASE_LETTERS = {
    "đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h", "\u0131": "i", "æ": "ae", "œ": "oe", "þ": "th"
}  # fmt: skip


class _Fold(dict[int, str | None]):
    """str.translate table, filled on first sight of each character: one C-speed pass per name."""

    def __missing__(self, codepoint: int) -> str | None:
        c = chr(codepoint)
        folded: str | None
        if unicodedata.combining(c) or c.isspace() or c in _SEPARATORS:
            folded = None
        else:
            # Casefold again here: compatibility forms such as U+210C decompose to capitals.
            folded = unicodedata.normalize("NFKD", c.casefold())
            folded = "".join(x for x in folded if not unicodedata.combining(x))
            folded = _BASE_LETTERS.get(folded, folded)
        self[codepoint] = folded
        return folded


_FOLD = _Fold()

# The shapes most North American numbers are written in: "+1 (213) 555-0100", "213.555.0100",
# "12135550100". Reading them directly skips phonenumbers.parse (~18 µs); validity is still
# phonenumbers' own, so the answer is the same as parse-then-validate.
_NANP = re.compile(r"(?:\+?1[ .-]?)?\(?([2-9]\d\d)\)?[ .-]?([2-9]\d\d)[ .-]?(\d{4})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def name_key(s: str) -> str:
    """The match key of a name: accents, case, hyphens, apostrophes, periods, spaces removed."""
    if s.isascii():
        return s.lower().translate(_FOLD)
    return unicodedata.normalize("NFKD", s.casefold()).translate(_FOLD)


def normalize_phone(s: str) -> str | None:
    """The phone number in E.164 (US by default), or None if it is not a valid number."""
    s = s.strip()
    nanp = _NANP.fullmatch(s)
    if nanp:
        number = PhoneNumber(country_code=1, national_number=int("".join(nanp.groups())))
    else:
        try:
            number = phonenumbers.parse(s, "US")
        except NumberParseException:
            return None
    # Valid for the US means valid; only other numbers pay for the search across all regions.
    if not (
        phonenumbers.is_valid_number_for_region(number, "US")
        or phonenumbers.is_valid_number(number)
    ):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def normalize_email(s: str) -> str | None:
    """The email address trimmed and lower-cased, or None if it does not look like one."""
    s = s.strip().lower()
    if len(s) > 254 or not _EMAIL.fullmatch(s):
        return None
    return s
