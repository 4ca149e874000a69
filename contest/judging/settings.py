"""A round's judging settings row (review thresholds, the prediction's scope, stored-results bookkeeping) and its
ranking rule choice."""

from flask_babel import gettext as _

from contest.audit import record_action
from contest.judging.errors import JudgingError
from contest.judging.models import JudgingSettings
from contest.judging.ranking import DEFAULT_PREDICTION_SCOPE, PREDICTION_SCOPES, count_perfect, prediction_scope
from contest.rounds.models import Round
from contest.rounds.ranking_rule import validate_rule
from infra.extensions import db


def settings_for(round_: Round) -> JudgingSettings:
    """The round's settings, or unsaved defaults when nobody has set them yet."""
    settings = db.session.get(JudgingSettings, round_.id)
    if settings is None:
        settings = JudgingSettings(
            round_id=round_.id,
            min_time_seconds=60,
            max_accounts_per_ip=5,
            max_accounts_per_device=1,
            prediction_scope=DEFAULT_PREDICTION_SCOPE,
        )
    return settings


def set_ranking_rule(round_: Round, rule, actor):
    rule = validate_rule(rule)
    previous = list(round_.ranking_rule or [])
    round_.ranking_rule = rule
    record_action(actor, "ranking_rule", round_, rule=rule, previous=previous)
    db.session.commit()


def recount_target(round_: Round, actor, cause: str) -> None:
    """Once the prediction's target is fixed, a change of whom it counts (the scope, or a disqualification under the
    "valid" scope) counts it again; a new value is audited. In the caller's transaction."""
    if round_.perfect_count_actual is None:
        return  # still provisional: every reader counts it afresh
    value = count_perfect(round_)
    if value != round_.perfect_count_actual:
        record_action(
            actor,
            "prediction_target_update",
            round_,
            changes={"perfect_count_actual": [round_.perfect_count_actual, value]},
            cause=cause,
        )
        round_.perfect_count_actual = value


def set_prediction_scope(round_: Round, scope: str, actor) -> None:
    """Whose perfect scores the prediction's target counts: "valid" entries or "all" entries (audited)."""
    if scope not in PREDICTION_SCOPES:
        raise JudgingError(_("Cách tính đáp án câu dự đoán không hợp lệ."))
    previous = prediction_scope(round_.id)
    if scope == previous:
        return
    settings = settings_for(round_)
    settings.prediction_scope = scope
    db.session.add(settings)
    db.session.flush()
    record_action(actor, "prediction_scope", round_, changes={"prediction_scope": [previous, scope]})
    recount_target(round_, actor, cause="prediction_scope")
    db.session.commit()
