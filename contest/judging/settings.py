"""A round's judging settings row (review thresholds, stored-results bookkeeping) and its ranking rule choice."""

from contest.audit import record_action
from contest.judging.models import JudgingSettings
from contest.rounds.models import Round
from contest.rounds.ranking_rule import validate_rule
from infra.extensions import db


def settings_for(round_: Round) -> JudgingSettings:
    """The round's settings, or unsaved defaults when nobody has set them yet."""
    settings = db.session.get(JudgingSettings, round_.id)
    if settings is None:
        settings = JudgingSettings(
            round_id=round_.id, min_time_seconds=60, max_accounts_per_ip=5, max_accounts_per_device=1
        )
    return settings


def set_ranking_rule(round_: Round, rule, actor):
    rule = validate_rule(rule)
    previous = list(round_.ranking_rule or [])
    round_.ranking_rule = rule
    record_action(actor, "ranking_rule", round_, rule=rule, previous=previous)
    db.session.commit()
