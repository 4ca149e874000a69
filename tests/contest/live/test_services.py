"""The rules of a live final, called directly on SQLite and a real Redis."""

import time

import pytest

from contest.accounts.models import User
from contest.audit.models import AuditEntry
from contest.live import services, state
from contest.live.models import LiveAnswer, LivePlayer, LiveSession
from infra.extensions import db
from tests.conftest import create_account
from tests.contest.live.livekit import join_players, key_index, make_live


def _host(ctx, organiser_id):
    return db.session.get(User, organiser_id)


def test_points_formula():
    assert services.points_for(0, 10000) == 1000
    assert services.points_for(5000, 10000) == 750
    assert services.points_for(10000, 10000) == 500
    assert services.points_for(99999, 10000) == 500


def test_create_shuffles_once_and_gives_an_open_pin(app):
    sid, _, ids = make_live(app, count=4)
    with app.app_context():
        session = services.get_session(sid)
        assert len(session.pin) == 6 and session.pin.isdigit() and session.open_pin == session.pin
        assert [row.question_id for row in session.questions] == ids
        # options were shuffled once and stay as stored
        for row in session.questions:
            assert sorted(row.option_order) == sorted(o.id for o in row.question.options)
        assert state.read(sid)["phase"] == "lobby"
        assert db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "live.create")) is not None


@pytest.mark.parametrize(
    "change, field",
    [
        ({"seconds_per_question": 4}, "seconds_per_question"),
        ({"seconds_per_question": 121}, "seconds_per_question"),
        ({"mode": "kahoot"}, "mode"),
        ({"question_ids": []}, "question_ids"),
        ({"question_ids": [999999]}, "question_ids"),
        ({"rescue": "question"}, "rescue_positions"),
        ({"mode": "points", "rescue": "manual"}, "rescue"),
        ({"title": " "}, "title"),
    ],
)
def test_bad_setup_is_refused_and_changes_nothing(app, change, field):
    sid, organiser_id, ids = make_live(app)
    with app.app_context():
        before = db.session.scalar(db.select(db.func.count(LiveSession.id)))
        data = services.SessionInput(title="Phiên", question_ids=ids, mode="elimination")
        for name, value in change.items():
            setattr(data, name, value)
        with pytest.raises(services.LiveError) as err:
            services.create_session(services.get_session(sid).contest, organiser_id, data)
        assert err.value.field == field and err.value.message
        assert db.session.scalar(db.select(db.func.count(LiveSession.id))) == before


def test_question_content_is_not_sent_before_shown(app):
    sid, organiser_id, _ = make_live(app)
    (uid,) = join_players(app, sid, 1)
    with app.app_context():
        session = services.get_session(sid)
        stems = [row.question.stem for row in session.questions]
        view = services.view(session, uid)
        assert view["phase"] == "lobby" and "question" not in view
        assert not any(stem in repr(view) for stem in stems)
        shown = services.show_next(session, _host(app, organiser_id))
        assert shown["stem"] == stems[0] and "correct" not in shown
        view = services.view(session, uid)
        assert view["question"]["stem"] == stems[0]
        assert stems[1] not in repr(view) and "correct" not in view and "counts" not in view


def test_answer_is_once_and_refused_after_the_window(app):
    sid, organiser_id, _ = make_live(app, seconds=5)
    a, b = join_players(app, sid, 2)
    with app.app_context():
        session = services.get_session(sid)
        services.show_next(session, _host(app, organiser_id))
        first = services.answer(sid, a, 0, 1)
        assert first.error is None and not first.duplicate
        again = services.answer(sid, a, 0, 2)
        assert again.duplicate and again.choice == 1  # the first answer is final
        with pytest.raises(services.LiveError) as err:
            services.answer(sid, a, 0, 7)
        assert err.value.code == "unknown_option" or err.value.code == "window_closed"
        with pytest.raises(services.LiveError) as err:
            services.answer(sid, a, 1, 0)
        assert err.value.code == "question_closed"
        # the window ends on Redis's clock: move it into the past, as 5 s of waiting would
        state.transition(sid, ("question",), "question", end=state.now_ms() - 1)
        with pytest.raises(services.LiveError) as err:
            services.answer(sid, b, 0, 0)
        assert err.value.code == "window_closed"
        assert state.counts(sid, 0, 4) == [0, 1, 0, 0]


def test_answers_refused_once_closed_early(app):
    sid, organiser_id, _ = make_live(app)
    (a,) = join_players(app, sid, 1)
    with app.app_context():
        session = services.get_session(sid)
        services.show_next(session, _host(app, organiser_id))
        services.close(session, _host(app, organiser_id))
        with pytest.raises(services.LiveError) as err:
            services.answer(sid, a, 0, 0)
        assert err.value.code == "question_closed"


def test_points_mode_scores_faster_higher(app):
    sid, organiser_id, _ = make_live(app, mode="points", count=2)
    fast, slow, wrong = join_players(app, sid, 3)
    with app.app_context():
        session = services.get_session(sid)
        host = _host(app, organiser_id)
        services.show_next(session, host)
        k = key_index(sid, 0)
        services.answer(sid, fast, 0, k)
        time.sleep(0.3)
        services.answer(sid, slow, 0, k)
        services.answer(sid, wrong, 0, (k + 1) % 4)
        with pytest.raises(services.LiveError) as err:
            services.reveal(session, host)
        assert err.value.code == "still_open"
        services.close(session, host)
        result = services.reveal(session, host)
        assert result["correct"] == k and sum(result["counts"]) == 3
        scores = state.hash_ints(sid, "score")
        assert 1000 >= scores[fast] > scores[slow] >= 500 and scores.get(wrong, 0) == 0
        assert [t["score"] for t in result["top"]][:2] == [scores[fast], scores[slow]]
        assert services.view(session, slow)["me"]["rank"] == 2
        podium = services.end(session, host)
        assert [p["rank"] for p in podium["podium"]] == [1, 2, 3]
        ranks = {p.user_id: p.final_rank for p in db.session.scalars(db.select(LivePlayer))}
        assert ranks[fast] == 1 and ranks[slow] == 2 and ranks[wrong] == 3
        assert db.session.get(LiveSession, sid).open_pin is None


def test_elimination_rescue_question_and_final_order(app):
    sid, organiser_id, _ = make_live(app, mode="elimination", count=3, rescue="question", rescue_positions=[2])
    a, b, c = join_players(app, sid, 3)
    with app.app_context():
        session = services.get_session(sid)
        host = _host(app, organiser_id)
        # question 1: a right, b wrong, c silent -> b and c out
        services.show_next(session, host)
        k = key_index(sid, 0)
        services.answer(sid, a, 0, k)
        services.answer(sid, b, 0, (k + 1) % 4)
        services.close(session, host)
        result = services.reveal(session, host)
        assert result["eliminated"] == 2 and result["survivors"] == 1
        assert services.view(session, b)["me"]["eliminated"] is True
        # question 2 is a rescue question: only the eliminated answer; b right -> back in
        services.show_next(session, host)
        k = key_index(sid, 1)
        with pytest.raises(services.LiveError) as err:
            services.answer(sid, a, 1, k)
        assert err.value.code == "rescue_only"
        services.answer(sid, b, 1, k)
        services.answer(sid, c, 1, (k + 1) % 4)
        services.close(session, host)
        result = services.reveal(session, host)
        assert result["rescued"] == 1 and result["survivors"] == 2
        # question 3: c, still out, may not answer; b wrong -> out at 3
        services.show_next(session, host)
        k = key_index(sid, 2)
        with pytest.raises(services.LiveError) as err:
            services.answer(sid, c, 2, k)
        assert err.value.code == "eliminated"
        services.answer(sid, a, 2, k)
        services.answer(sid, b, 2, (k + 2) % 4)
        services.close(session, host)
        services.reveal(session, host)
        with pytest.raises(services.LiveError) as err:
            services.show_next(session, host)
        assert err.value.code == "no_more"
        podium = services.end(session, host)
        assert [p["name"] for p in podium["podium"]] == ["Người chơi 1", "Người chơi 2", "Người chơi 3"]
        rows = {p.user_id: p for p in db.session.scalars(db.select(LivePlayer))}
        assert (rows[a].final_rank, rows[b].final_rank, rows[c].final_rank) == (1, 2, 3)
        assert (rows[a].eliminated_at, rows[b].eliminated_at, rows[c].eliminated_at) == (None, 3, 1)
        outcomes = {(x.position, x.user_id): x.outcome for x in db.session.scalars(db.select(LiveAnswer))}
        assert outcomes[(0, b)] == "eliminated" and outcomes[(1, b)] == "rescued" and outcomes[(2, b)] == "eliminated"
        actions = set(db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.object_id == sid)))
        assert {"live.create", "live.show", "live.close", "live.reveal", "live.end"} <= actions


def test_manual_rescue_of_the_last_eliminated(app):
    sid, organiser_id, _ = make_live(app, mode="elimination", count=2, rescue="manual")
    a, b, c = join_players(app, sid, 3)
    with app.app_context():
        session = services.get_session(sid)
        host = _host(app, organiser_id)
        services.show_next(session, host)
        k = key_index(sid, 0)
        services.answer(sid, a, 0, k)
        services.answer(sid, b, 0, (k + 1) % 4)
        services.close(session, host)
        services.reveal(session, host)
        result = services.rescue_last(session, host, 1)
        assert result["rescued"] == 1 and result["survivors"] == 2
        # b answered (a wrong answer, fast) and c did not (the whole window): b is the one brought back
        assert services.view(session, b)["me"]["eliminated"] is False
        assert services.view(session, c)["me"]["eliminated"] is True


def test_join_rules(app):
    sid, organiser_id, _ = make_live(app, late_join="refuse")
    with app.app_context():
        with pytest.raises(services.LiveError) as err:
            services.find_by_pin("12345a")
        assert err.value.code == "bad_pin"
        session = services.find_by_pin(services.get_session(sid).pin)
        assert session.id == sid
    (early,) = join_players(app, sid, 1)
    late_id, _ = create_account(app)
    with app.app_context():
        session = services.get_session(sid)
        services.show_next(session, _host(app, organiser_id))
        with pytest.raises(services.LiveError) as err:
            services.join(session, db.session.get(User, late_id))
        assert err.value.code == "late"
        assert services.join(session, db.session.get(User, early)).watch_only is False


def test_late_joiner_watches(app):
    sid, organiser_id, _ = make_live(app, late_join="watch")
    late_id, _ = create_account(app)
    with app.app_context():
        session = services.get_session(sid)
        services.show_next(session, _host(app, organiser_id))
        assert services.join(session, db.session.get(User, late_id)).watch_only is True
        with pytest.raises(services.LiveError) as err:
            services.answer(sid, late_id, 0, 0)
        assert err.value.code == "not_player"


def _ended_points_game(app):
    sid, organiser_id, _ = make_live(app, mode="points", count=1)
    players = join_players(app, sid, 3, names=["=HYPERLINK(1)", "Bé Hai", "Cô Ba"])
    with app.app_context():
        session = services.get_session(sid)
        host = _host(app, organiser_id)
        services.show_next(session, host)
        k = key_index(sid, 0)
        for i, uid in enumerate(players):
            services.answer(sid, uid, 0, k if i < 2 else (k + 1) % 4)
            time.sleep(0.05)
        services.close(session, host)
        services.reveal(session, host)
        services.end(session, host)
    return sid, players


def test_judges_disqualify_reinstate_publish(app):
    sid, (first, second, third) = _ended_points_game(app)
    judge_id, _ = create_account(app, role="judge")
    with app.app_context():
        session = services.get_session(sid)
        judge = db.session.get(User, judge_id)
        with pytest.raises(services.LiveError) as err:
            services.disqualify(session, judge, first, "x")
        assert err.value.code == "bad_reason"
        services.disqualify(session, judge, first, "Dùng hai tài khoản")
        ranks = {p.user_id: (p.final_order, p.final_rank) for p in db.session.scalars(db.select(LivePlayer))}
        assert ranks[first] == (1, None) and ranks[second] == (2, 1) and ranks[third] == (3, 2)
        rows = services.export_rows(session)
        assert [r[0] for r in rows] == [1, 2, ""] and rows[-1][-1] == "Dùng hai tài khoản"
        services.reinstate(session, judge, first)
        assert db.session.scalar(db.select(LivePlayer.final_rank).where(LivePlayer.user_id == first)) == 1
        services.publish(session, judge)
        with pytest.raises(services.LiveError) as err:
            services.disqualify(session, judge, second, "Quá muộn rồi")
        assert err.value.code == "published"
        actions = set(db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.object_id == sid)))
        assert {"live.disqualify", "live.reinstate", "live.publish"} <= actions


def test_judging_refused_before_the_end(app):
    sid, organiser_id, _ = make_live(app)
    (uid,) = join_players(app, sid, 1)
    with app.app_context():
        with pytest.raises(services.LiveError) as err:
            services.disqualify(services.get_session(sid), organiser_id, uid, "Lý do đủ dài")
        assert err.value.code == "not_ended"


def test_editing_a_question_a_live_final_used_writes_a_new_version(app):
    """A past final keeps the text its players saw: the bank treats a live session's questions as used."""
    from question_bank.models import Question
    from question_bank.services import QuestionDraft, is_used, update_question

    sid, organiser_id, ids = make_live(app, count=3)
    with app.app_context():
        question = db.session.get(Question, ids[0])
        assert is_used(question.id)
        draft = QuestionDraft(
            stem="Câu hỏi đã sửa sau chung kết?",
            options=[(o.text, o.is_correct) for o in question.options],
            category_id=question.category_id,
        )
        edited = update_question(question, draft, organiser_id)
        assert edited.id != ids[0] and edited.version == question.version + 1
        assert db.session.get(Question, ids[0]).stem != "Câu hỏi đã sửa sau chung kết?"


def test_points_mode_player_sees_the_question_points_and_rank_after_the_reveal(app):
    sid, organiser_id, _ = make_live(app, mode="points", count=2)
    fast, slow, wrong = join_players(app, sid, 3)
    with app.app_context():
        session = services.get_session(sid)
        host = _host(app, organiser_id)
        for position in range(2):
            services.show_next(session, host)
            k = key_index(sid, position)
            services.answer(sid, fast, position, k)
            time.sleep(0.2)
            services.answer(sid, slow, position, k)
            services.answer(sid, wrong, position, (k + 1) % 4)
            me = services.view(session, fast)["me"]
            assert "points" not in me and "correct" not in me  # nothing of the result before the reveal
            services.close(session, host)
            assert "points" not in services.view(session, fast)["me"]
            services.reveal(session, host)
            stored = {
                a.user_id: a.points
                for a in db.session.scalars(
                    db.select(LiveAnswer).where(LiveAnswer.session_id == sid, LiveAnswer.position == position)
                )
            }
            views = {uid: services.view(session, uid)["me"] for uid in (fast, slow, wrong)}
            # this question's points, as the formula gives them and as SQL keeps them for the audit
            assert {uid: v["points"] for uid, v in views.items()} == stored
            assert 1000 >= views[fast]["points"] > views[slow]["points"] >= 500 and views[wrong]["points"] == 0
            assert [views[u]["rank"] for u in (fast, slow, wrong)] == [1, 2, 3]
        assert views[fast]["score"] == sum(
            db.session.scalars(db.select(LiveAnswer.points).where(LiveAnswer.user_id == fast))
        )


def test_elimination_mode_sends_no_question_points(app):
    sid, organiser_id, _ = make_live(app, mode="elimination", count=1)
    (uid,) = join_players(app, sid, 1)
    with app.app_context():
        session = services.get_session(sid)
        host = _host(app, organiser_id)
        services.show_next(session, host)
        services.answer(sid, uid, 0, key_index(sid, 0))
        services.close(session, host)
        services.reveal(session, host)
        me = services.view(session, uid)["me"]
        assert me["correct"] is True and me["rank"] == 1 and "points" not in me
