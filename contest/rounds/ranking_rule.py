"""A round's ranking rule: the criteria it may name, the usual order, and the one check of a rule.

The organiser's round form and the judge's settings page both edit Round.ranking_rule and both check it here;
the judging package turns a checked rule into SQL ordering.
"""

from collections.abc import Sequence

from flask_babel import gettext as _

# Every criterion a rule may use, in the usual order of the published rules (DOMAIN.md).
CRITERIA = (
    "correct_desc",
    "prediction_distance_asc",
    "time_taken_asc",
    "submitted_at_asc",
    "attempts_used_asc",
    "registered_at_asc",
)
# Each round may reorder or drop criteria; a new round starts with all of them in the usual order.
DEFAULT_RANKING_RULE = list(CRITERIA)

# What RankingRuleError.problem can be.
EMPTY = "empty"
UNKNOWN = "unknown"
REPEATED = "repeated"
SCORE_NOT_FIRST = "score_not_first"
PREDICTION_OFF = "prediction_off"


class RankingRuleError(ValueError):
    """A refused rule: `problem` names the failed check, `unknown` lists unknown keys; the message is for judges."""

    def __init__(self, problem: str, message: str, unknown: Sequence[str] = ()):
        super().__init__(message)
        self.problem = problem
        self.unknown = list(unknown)


def validate_rule(rule, score_first: bool = False, prediction_enabled: bool = True) -> list[str]:
    """The rule as a list if it is a non-empty ordered list of distinct known criteria, else RankingRuleError.

    score_first also asks that correct answers come first, and prediction_enabled=False that the prediction
    criterion is absent: the round form asks both, since the live leaderboard orders by score first and a round
    without the prediction question has nothing to measure. The ranking engine asks neither (it drops the
    prediction criterion of such a round itself).
    """
    if not isinstance(rule, (list, tuple)) or not rule:
        raise RankingRuleError(EMPTY, _("Quy tắc xếp hạng phải có ít nhất một tiêu chí."))
    unknown = [str(key) for key in rule if key not in CRITERIA]
    if unknown:
        raise RankingRuleError(UNKNOWN, _("Tiêu chí không hợp lệ: %(keys)s.", keys=", ".join(unknown)), unknown)
    if len(set(rule)) != len(rule):
        raise RankingRuleError(REPEATED, _("Mỗi tiêu chí chỉ được chọn một lần."))
    if score_first and rule[0] != "correct_desc":
        raise RankingRuleError(SCORE_NOT_FIRST, _("Tiêu chí xếp hạng đầu tiên phải là “Nhiều câu trả lời đúng hơn”."))
    if not prediction_enabled and "prediction_distance_asc" in rule:
        raise RankingRuleError(
            PREDICTION_OFF, _("Câu hỏi dự đoán đang tắt nên không thể dùng tiêu chí “Dự đoán gần đúng hơn”.")
        )
    return list(rule)
