"""The live scenario's set-up and run options: `contest loadtest create-live` and `loadtests.run --scenario live`."""

import ast
from pathlib import Path

from contest.accounts.models import User
from contest.live import services, state
from contest.live.models import LiveSession
from infra.extensions import db
from loadtests import run
from loadtests.live_setup import DEFAULT_HOST_PHONE


def test_create_live_makes_a_session_in_its_lobby_driven_by_a_host_account(app, runner):
    result = runner.invoke(args=["loadtest", "create-live", "--questions", "3", "--seconds", "7"])
    assert result.exit_code == 0, result.output
    session_id, pin, host_phone = result.output.split()
    again = runner.invoke(args=["loadtest", "create-live", "--questions", "3"])  # reuses the bank and the host
    assert again.exit_code == 0 and again.output.split()[2] == host_phone == DEFAULT_HOST_PHONE
    with app.app_context():
        session = db.session.get(LiveSession, int(session_id))
        assert session.open_pin == pin and session.seconds_per_question == 7 and len(session.questions) == 3
        assert state.read(session.id)["phase"] == "lobby"
        host = db.session.scalar(db.select(User).where(User.phone == host_phone))
        assert host.role == "host" and host.check_password("thitai12345")
        assert (
            services.get_session(int(again.output.split()[0])).questions[0].question_id
            == session.questions[0].question_id
        )
    refused = runner.invoke(args=["loadtest", "create-live", "--seconds", "2"])
    assert refused.exit_code != 0


def test_live_scenario_runs_long_enough_for_the_whole_game():
    args = run.parse_args(["--scenario", "live", "--users", "1000", "--spawn-rate", "50", "--duration", "60s"])
    assert args.questions == 10 and args.live_seconds == 10
    assert args.duration_s == run.live_game_seconds(args) >= 20 + 10 * 10 and args.duration == f"{args.duration_s}s"
    assert run.SCENARIOS["live"] == ["LivePlayer", "LiveHost"] and run.LOCUSTFILES["live"] == "live_final.py"


def test_capacity_script_imports_nothing_from_tests():
    tree = ast.parse(Path(run.PROJECT_ROOT / "scripts" / "live_final_capacity.py").read_text())
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert modules and not any(m and m.split(".")[0] == "tests" for m in modules)
