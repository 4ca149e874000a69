"""Who may take part in a contest: the organiser's choice of eligible units, read by the hot path."""

from contest.rounds.models import Contest


def user_is_eligible(contest: Contest, user) -> bool:
    """No eligible units means everyone; otherwise the user's unit or one of its ancestors must be chosen."""
    chosen = {u.id for u in contest.eligible_units}
    if not chosen:
        return True
    node = user.unit
    while node is not None:
        if node.id in chosen:
            return True
        node = node.parent
    return False
