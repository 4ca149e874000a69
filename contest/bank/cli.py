"""`contest questions import|export`: the bank's exchange formats from the command line."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from contest.accounts.services import find_by_login
from infra.extensions import db
from question_bank import formats
from question_bank.services import export_questions, find_category_by_path, import_questions


def print_report(report, echo=click.echo):
    for issue in report.errors:
        echo(f"LỖI {issue.message}", err=True)
    for issue in report.unsupported:
        echo(f"KHÔNG HỖ TRỢ {issue.message}", err=True)
    for issue in report.duplicates:
        echo(f"CẢNH BÁO {issue.message}", err=True)
    if report.examples:
        rows = ", ".join(str(n) for n in report.examples)
        echo(f"BỎ QUA {len(report.examples)} dòng ví dụ của tệp mẫu (dòng {rows})", err=True)


@click.group("questions")
def questions_group():
    """Ngân hàng câu hỏi: nhập / xuất (GIFT, Aiken, CSV, XLSX)."""


@questions_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(formats.FORMATS), help="Mặc định: đoán theo phần mở rộng tệp")
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra, không ghi gì")
@click.option("--skip-unsupported", is_flag=True, help="Bỏ qua câu hỏi thuộc loại chưa hỗ trợ (tự luận, ghép đôi...)")
@click.option("--category", default="", help='Chủ đề mặc định, ví dụ "Hiến pháp > Quyền con người"')
@click.option("--author-phone", default=None, help="Số điện thoại của người soạn (ghi nhận tác giả)")
@with_appcontext
def import_command(file, fmt, dry_run, skip_unsupported, category, author_phone):
    """Nhập câu hỏi từ FILE: tất cả hoặc không câu nào; lỗi được liệt kê theo số dòng."""

    fmt = fmt or formats.guess_format(file.name)
    if fmt is None:
        raise click.UsageError("Không đoán được định dạng; dùng --format gift|aiken|csv|xlsx")
    author_id = None
    if author_phone:
        author = find_by_login(author_phone)
        if author is None:
            raise click.ClickException(f"Không tìm thấy tài khoản {author_phone}")
        author_id = author.id
    default_category = [n.strip() for n in category.replace("/", ">").split(">") if n.strip()]
    report = import_questions(
        file.read_bytes(),
        fmt,
        dry_run=dry_run,
        skip_unsupported=skip_unsupported,
        default_category=default_category,
        author_id=author_id,
    )
    print_report(report)
    if report.refused:
        db.session.rollback()
        hint = "" if report.errors else " (dùng --skip-unsupported để bỏ qua các câu này)"
        raise click.ClickException(
            f"Từ chối nhập: {len(report.errors)} lỗi, {len(report.unsupported)} câu loại chưa hỗ trợ{hint}. Không có câu nào được ghi."
        )
    skipped = f", bỏ qua {len(report.unsupported)} câu loại chưa hỗ trợ" if report.unsupported else ""
    if dry_run:
        click.echo(f"Chạy thử: sẽ tạo {report.parsed} câu hỏi{skipped}. Không có gì được ghi.")
        for q in report.preview[:20]:
            click.echo(f"  dòng {q.line}: [{' > '.join(q.category)}] {q.stem[:80]}")
    else:
        click.echo(f"Đã nhập {report.created} câu hỏi (trạng thái nháp){skipped}.")


@questions_group.command("export")
@click.option("--format", "fmt", type=click.Choice(formats.FORMATS), required=True)
@click.option("--category", default=None, help='Chỉ xuất chủ đề này và chủ đề con, ví dụ "Hiến pháp > Quyền con người"')
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def export_command(fmt, category, output):
    """Xuất các câu hỏi hiện hành (không gồm câu đã ngừng dùng)."""

    category_id = None
    if category:
        node = find_category_by_path(category)
        if node is None:
            raise click.ClickException(f"Không tìm thấy chủ đề {category}")
        category_id = node.id
    data, left_out = export_questions(fmt, category_id)
    output.write_bytes(data)
    if left_out:
        click.echo(
            f"Định dạng {fmt} không mang được {left_out} câu nhiều đáp án; các câu này không được xuất.", err=True
        )
    click.echo(f"Đã xuất ra {output}")
