"""Diacritics- and case-insensitive forms of Vietnamese text for search and near-duplicate detection."""
import re
import unicodedata

_SPACES = re.compile(r"\s+")
# đ/Đ are letters of their own in Unicode, not d + a combining mark: NFD does not strip them.
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d"})


def normalize_text(text: str | None) -> str:
    """'Giao  Thông Đường bộ' -> 'giao thong duong bo'."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", stripped.casefold()).strip()


def normalize_stem(text: str | None) -> str:
    """The key for near-duplicates: normalized, punctuation removed."""
    return _SPACES.sub(" ", re.sub(r"[^\w\s]", " ", normalize_text(text))).strip()
