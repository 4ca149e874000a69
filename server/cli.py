"""The `contest` console script: a Flask CLI group (so `flask --app server.app ...` works too)."""

from flask.cli import FlaskGroup

from server.app import create_app

cli = FlaskGroup(
    create_app=lambda: create_app(), help="Nền tảng thi tìm hiểu pháp luật — lệnh quản trị / admin commands"
)


def main():
    cli(prog_name="contest")
