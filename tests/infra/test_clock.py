"""infra.clock: Việt Nam time agrees with the tz database for every date the platform stores; ms round trips."""

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from infra.clock import format_vn_time, from_ms, from_vn_time, redis_time_ms, to_ms, to_vn_time, utcnow

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def test_vn_time_matches_the_tz_database_from_1976_on():
    rng = random.Random(13)
    start, span = datetime(1976, 1, 1), datetime(2080, 1, 1) - datetime(1976, 1, 1)
    for _ in range(20000):
        utc = (start + span * rng.random()).replace(microsecond=0)
        assert to_vn_time(utc) == utc.replace(tzinfo=UTC).astimezone(ZONE).replace(tzinfo=None)
        assert from_vn_time(utc) == utc.replace(tzinfo=ZONE).astimezone(UTC).replace(tzinfo=None)
        assert from_vn_time(to_vn_time(utc)) == utc


def test_formats_and_milliseconds():
    assert format_vn_time(datetime(2026, 11, 27, 17, 5, 9)) == "28/11/2026 00:05"
    assert format_vn_time(datetime(2026, 11, 27, 17, 5, 9), seconds=True) == "28/11/2026 00:05:09"
    assert format_vn_time(None) == ""
    moment = datetime(2026, 11, 27, 8, 0, 0, 123000)
    assert from_ms(to_ms(moment)) == moment
    assert redis_time_ms((1764230400, 999999)) == 1764230400999
    assert utcnow().tzinfo is None
