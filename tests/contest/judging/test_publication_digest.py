"""Issue 14, finding 10: the published digest could not be checked by anyone outside (its input used internal ids
and microsecond timestamps). Now it is the SHA-256 of the public file the public page links."""

import csv
import hashlib
import io
import re
import urllib.request
from datetime import datetime

from contest.accounts.models import User
from contest.judging.models import ResultSnapshot
from contest.judging.prizes import TierSpec, set_prize_tiers
from contest.judging.publishing import PUBLIC_COLUMNS, latest_snapshot, publish, verify_snapshot
from contest.rounds.models import Contest, Round
from infra.extensions import db
from tests.conftest import make_app
from tests.contest.judging_data import add_attempt, make_person, make_round, make_unit


def _get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers, response.read()


def test_public_file_downloaded_over_http_hashes_to_the_published_digest(server_factory, live_server, redis_url):
    app = make_app(server_factory.database_url, redis_url)
    with app.app_context():
        province = make_unit("Tỉnh Quảng Trị")
        school = make_unit("Trường THPT Lê Quý Đôn", parent=province)
        round_ = make_round(questions=2)
        round_.contest.published = True
        judge = make_person(full_name="Trần Thẩm Phán", role="judge")
        people = [
            make_person(full_name="Nguyễn Thị Ánh", unit=school),
            make_person(full_name="=cmd|' /C calc'!A0", unit=school),  # formula-like name stays text
            make_person(full_name="Đặng Văn Bảo"),
        ]
        add_attempt(
            round_, people[0], 2, time_ms=61_500, prediction=1, submitted_at=datetime(2026, 11, 2, 1, 30, 5, 123456)
        )
        add_attempt(round_, people[1], 2, time_ms=70_001, prediction=3)
        add_attempt(round_, people[2], 1, time_ms=9_000, prediction=1)
        db.session.commit()
        set_prize_tiers(round_, [TierSpec("Giải Nhất", 1), TierSpec("Giải Nhì", 1)], judge)
        snapshot = publish(round_, judge, note="Chính thức")
        digest, round_id, people_ids = snapshot.digest, round_.id, [p.id for p in people]

    status, _, body = _get(f"{live_server.url}/ket-qua/vong/{round_id}")
    page = body.decode()
    assert status == 200 and digest in page and "sha256sum ket-qua-vong-" in page
    link = re.search(r'href="(/ket-qua/vong/\d+/phien-ban-\d+\.csv)"', page).group(1)
    status, headers, data = _get(live_server.url + link)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert f'filename="ket-qua-vong-{round_id}-v1.csv"' in headers["Content-Disposition"]
    assert hashlib.sha256(data).hexdigest() == digest  # what `sha256sum` prints

    text = data.decode("utf-8")
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert tuple(rows[0]) == PUBLIC_COLUMNS
    assert rows[1] == [
        "1",
        "Nguyễn Thị Ánh",
        "Trường THPT Lê Quý Đôn",
        "Tỉnh Quảng Trị",
        "2",
        "2",
        "61.500",
        "2026-11-02 08:30:05",  # Việt Nam time, to the second: no microseconds
        "1",
        "1",
        "Giải Nhất",
    ]
    assert rows[2][1] == "'=cmd|' /C calc'!A0" and rows[2][6] == "70.001" and rows[2][-1] == "Giải Nhì"
    assert len(rows) == 4
    # A later change of a name does not change the published file.
    with app.app_context():
        db.session.get(User, people_ids[0]).full_name = "Nguyễn Thị Ánh Hồng"
        db.session.commit()
        assert verify_snapshot(latest_snapshot(round_id))
    assert hashlib.sha256(_get(live_server.url + link)[2]).hexdigest() == digest


def test_public_file_of_a_version_published_before_it_or_of_a_hidden_contest_is_not_served(app, client):
    with app.app_context():
        round_ = make_round(questions=1)
        round_.contest.published = True
        judge = make_person(full_name="Trần Thẩm Phán", role="judge")
        add_attempt(round_, make_person(full_name="Nguyễn Thị Ánh"), 1)
        db.session.commit()
        v1 = publish(round_, judge)
        v2 = publish(round_, judge)
        assert v1.digest == v2.digest  # same ranking, same file, same digest; the version is in the file name
        # a version published before the public file existed (digest over internal lines): no file to offer
        db.session.execute(ResultSnapshot.__table__.update().where(ResultSnapshot.id == v1.id).values(digest_format=1))
        db.session.commit()
        round_id = round_.id
    assert client.get(f"/ket-qua/vong/{round_id}/phien-ban-1.csv").status_code == 404
    assert client.get(f"/ket-qua/vong/{round_id}/phien-ban-2.csv").status_code == 200
    assert client.get(f"/ket-qua/vong/{round_id}/phien-ban-3.csv").status_code == 404
    with app.app_context():
        db.session.get(Contest, db.session.get(Round, round_id).contest_id).published = False
        db.session.commit()
    assert client.get(f"/ket-qua/vong/{round_id}/phien-ban-2.csv").status_code == 404
