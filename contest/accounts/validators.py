"""Vietnamese identity data: phone numbers and ID-card (CCCD) numbers."""

import hashlib
import hmac
import re
import unicodedata
from datetime import date

# Mobile prefixes in use since the 2018 renumbering: 03x, 05x, 07x, 08x, 09x. ASCII digits only: `\d` would also
# match fullwidth (０９１…) and Arabic-Indic digits, and one number could then be registered several times.
_PHONE_RE = re.compile(r"0[35789][0-9]{8}")
_SEPARATORS = re.compile(r"[\s.\-()]")


def strip_separators(raw: str) -> str:
    """The value without the spaces, dots, dashes and brackets people type between digit groups."""
    return _SEPARATORS.sub("", raw or "")


def has_non_ascii_digit(raw: str) -> bool:
    """True when the value holds a digit other than 0-9 (fullwidth, Arabic-Indic, superscript...): refused, not
    silently converted, so the same number cannot be written two ways."""
    return any(ch.isdigit() and not ("0" <= ch <= "9") for ch in raw or "")


def normalize_phone(raw: str) -> str | None:
    """Returns the 10-digit national form (0xxxxxxxxx) or None when it is not a Vietnamese mobile number."""
    digits = strip_separators(raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _PHONE_RE.fullmatch(digits) else None


def normalize_cccd(raw: str) -> str:
    """The CCCD number as typed, without spaces, dots or dashes between digit groups (checked by cccd_problem)."""
    return strip_separators(raw)


# Unicode categories never part of a person's name: controls (NUL...), format characters (zero-width space,
# right-to-left override, BOM), surrogates, private use, unassigned, and line/paragraph separators.
_NAME_FORBIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def normalize_name(raw: str) -> str:
    """NFC form (one code point per accented letter, as Vietnamese keyboards differ) with runs of whitespace
    collapsed to one space."""
    return " ".join(unicodedata.normalize("NFC", raw or "").split())


def name_problem(name: str) -> str | None:
    """Why this is not a plausible name ("control" or "no_letter"), or None when it is."""
    if any(unicodedata.category(ch) in _NAME_FORBIDDEN for ch in name):
        return "control"
    if not any(unicodedata.category(ch).startswith("L") for ch in name):
        return "no_letter"
    return None


def cccd_problem(cccd: str, date_of_birth: date | None) -> str | None:
    """Why this is not a plausible CCCD for someone born on date_of_birth, or None when it is.

    Digits 1-3 are the province of birth (001-096), digit 4 encodes sex and century,
    digits 5-6 are the last two digits of the birth year (Circular 07/2016/TT-BCA).
    Returns a message key so the form can phrase it.
    """
    if not re.fullmatch(r"[0-9]{12}", cccd):
        return "format"
    if not 1 <= int(cccd[:3]) <= 96:
        return "province"
    if date_of_birth is not None:
        century = 1900 + (int(cccd[3]) // 2) * 100
        if century + int(cccd[4:6]) != date_of_birth.year:
            return "birth_year"
    return None


def hash_cccd(cccd: str, key: str) -> str:
    return hmac.new(key.encode(), cccd.encode(), hashlib.sha256).hexdigest()
