"""Vietnamese identity data: phone numbers and ID-card (CCCD) numbers."""

import hashlib
import hmac
import re
from datetime import date

# Mobile prefixes in use since the 2018 renumbering: 03x, 05x, 07x, 08x, 09x.
_PHONE_RE = re.compile(r"^0[35789]\d{8}$")


def normalize_phone(raw: str) -> str | None:
    """Returns the 10-digit national form (0xxxxxxxxx) or None when it is not a Vietnamese mobile number."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _PHONE_RE.match(digits) else None


def cccd_problem(cccd: str, date_of_birth: date | None) -> str | None:
    """Why this is not a plausible CCCD for someone born on date_of_birth, or None when it is.

    Digits 1-3 are the province of birth (001-096), digit 4 encodes sex and century,
    digits 5-6 are the last two digits of the birth year (Circular 07/2016/TT-BCA).
    Returns a message key so the form can phrase it.
    """
    if not re.fullmatch(r"\d{12}", cccd):
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
