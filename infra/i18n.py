"""Marking strings for the translation catalog (Flask-Babel translates them at render time)."""


def N_(message):
    """Marks a string for the catalog without translating it yet."""
    return message
