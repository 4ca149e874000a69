"""Diacritics- and case-insensitive forms of Vietnamese text for search and near-duplicate detection."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ are letters of their own in Unicode, not d + a combining mark: NFD does not strip them.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d"})
# Combining diacritical marks (U+0300–U+036F) cover every Vietnamese tone and vowel mark after NFD.
_MARKS = dict.fromkeys(range(0x300, 0x370))


def normalize_text(text: str | None) -> str:
    """'Giao  Thông Đường bộ' -> 'giao thong duong bo'."""
    if not text:
        return ""
    stripped = unicodedata.normalize("NFD", text.translate(_SPECIAL)).translate(_MARKS)
    return _SPACES.sub(" ", stripped.casefold()).strip()


def normalize_stem(text: str | None) -> str:
    """The key for near-duplicates: normalized, punctuation removed."""
    return _SPACES.sub(" ", re.sub(r"[^\w\s]", " ", normalize_text(text))).strip()
