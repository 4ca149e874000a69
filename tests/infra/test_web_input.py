"""infra.web_input: the one check of redirect targets, integers from the web and ids in URLs (issue 12)."""

import pytest
from werkzeug.datastructures import MultiDict

from infra.web_input import MAX_DB_INT, choice_id, has_control, int_arg, parse_int, safe_next


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",  # browsers drop the tab: //evil.example
        "/\r\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        " /cuoc-thi",
        "/cuoc-thi\x00",
        "/cuoc-thi\u202e",
        "/a b",
        "",
        None,
        "cuoc-thi",
        "/" + "a" * 3000,
    ],
)
def test_safe_next_refuses_anything_but_a_plain_path(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/cuoc-thi", "/quan-tri/ngan-hang/?q=luat&page=2", "/ket-qua/vong/1#top"])
def test_safe_next_keeps_paths_on_this_site(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("12", 12),
        (" 7 ", 7),
        ("0", None),
        ("-1", None),
        ("2147483647", MAX_DB_INT),
        ("2147483648", None),
        ("99999999999999999999", None),
        ("9" * 5000, None),
        ("１２", None),
        ("²", None),
        ("١٢", None),
        ("1e3", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_int(raw, expected):
    assert parse_int(raw) == expected


def test_int_arg_and_choice_id():
    args = MultiDict({"trang": "99999999999999999999", "ma": "5"})
    assert int_arg(args, "trang", 1, hi=1000) == 1
    assert int_arg(args, "ma") == 5 and int_arg(args, "missing", 3) == 3
    assert choice_id("0") == 0 and choice_id("17") == 17
    assert choice_id("99999999999999999999") == -1 and choice_id("１") == -1 and choice_id("x") == -1


def test_has_control():
    assert has_control("a\x00b") and has_control("\x1b[31m")
    assert not has_control("dòng 1\r\ndòng 2\tcột") and not has_control(None)


@pytest.mark.parametrize(
    "path",
    [
        "/ket-qua/vong/99999999999999999999",
        "/ket-qua/vong/2147483648",
        "/ket-qua/vong/0",
        "/ket-qua/vong/-1",
        "/ket-qua/vong/%EF%BC%91",  # fullwidth 1: Werkzeug's own converter read it as 1
        "/vong-thi/99999999999999999999/bang-xep-hang",
        "/luot-thi/99999999999999999999",
    ],
)
def test_ids_out_of_range_in_urls_are_404(any_db_app, path):
    response = any_db_app.test_client().get(path)
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)


def test_control_characters_in_query_or_path_are_refused(any_db_app):
    client = any_db_app.test_client()
    assert client.get("/cuoc-thi?trang=1%00").status_code == 400
    assert client.get("/cuoc-thi/abc%00").status_code == 404  # PostgreSQL refused the NUL in the lookup: a 500
