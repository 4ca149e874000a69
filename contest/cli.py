"""The `contest` console script: a Flask CLI group (so `flask --app contest ...` works too)."""
from flask.cli import FlaskGroup


def _create_app():
    from contest import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, help="Nền tảng thi tìm hiểu pháp luật — lệnh quản trị / admin commands")


def main():
    cli(prog_name="contest")
