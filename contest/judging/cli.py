"""`contest results ...`: export rankings and winners lists from the command line."""

import getpass

import click
from flask.cli import with_appcontext

from contest.judging.exports import ExportError, ExportSource, audit_export, write_csv, write_xlsx
from contest.rounds.models import Round
from infra.extensions import db


@click.group("results")
def results_group():
    """Kết quả: xuất bảng xếp hạng, danh sách đạt giải / results exports."""


@results_group.command("export")
@click.argument("round_id", type=int, metavar="ROUND")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--winners", "winners_only", is_flag=True, help="Chỉ danh sách đạt giải / winners only")
@click.option("--full-data", is_flag=True, help="Không che số điện thoại, ngày sinh (được ghi nhật ký)")
@click.option("--version", type=int, default=None, help="Phiên bản công bố (mặc định: mới nhất)")
@click.option("--provisional", is_flag=True, help="Xếp hạng tạm thời hiện tại, không theo bản công bố")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_command(round_id, fmt, winners_only, full_data, version, provisional, output):
    """Export ROUND's ranking (or winners) to a CSV or XLSX file."""

    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise click.ClickException(f"Không tìm thấy vòng thi #{round_id}")
    if version is not None and provisional:
        raise click.ClickException("Chọn --version hoặc --provisional, không chọn cả hai")
    try:
        source = ExportSource(round_, version=version, provisional=provisional, winners_only=winners_only)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "csv":
        write_csv(source, output, full_data=full_data)
    else:
        write_xlsx(source, output, full_data=full_data)
    audit_export(None, round_, fmt, source, full_data, via=f"cli:{getpass.getuser()}")
    state = f"phiên bản {source.version}, SHA-256 {source.digest}" if source.version else "tạm thời"
    click.echo(f"Đã xuất {output} ({state})")
