"""The error every judging action raises when it refuses, with a message for the judge."""


class JudgingError(ValueError):
    """A refused judging action, with a message for the judge (Vietnamese msgid)."""
