"""Time in one place. The database stores naive UTC; people read Việt Nam time (Asia/Ho_Chi_Minh,
UTC+7, no daylight saving); the live path counts milliseconds on Redis's clock."""

from datetime import UTC, datetime, timedelta

# Việt Nam has kept UTC+7 without daylight saving since 1975: a fixed offset gives the zone's answer for
# every timestamp this platform stores, at a quarter of zoneinfo's cost per call (a million-row export).
VN_OFFSET = timedelta(hours=7)


def utcnow() -> datetime:
    """Now as a naive UTC datetime, the form every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_vn_time(utc: datetime) -> datetime:
    """Naive UTC from the database -> naive wall-clock time in Việt Nam (what a person reads)."""
    return utc + VN_OFFSET


def from_vn_time(local: datetime) -> datetime:
    """A naive wall-clock time in Việt Nam (a form field) -> naive UTC."""
    return local - VN_OFFSET


def format_vn_time(utc: datetime | None, seconds: bool = False) -> str:
    """dd/mm/yyyy HH:MM[:SS] in Việt Nam time, the way published rules write it; "" for None."""
    if utc is None:
        return ""
    return to_vn_time(utc).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def to_ms(dt: datetime) -> int:
    """Naive UTC -> milliseconds since the epoch."""
    return int(dt.replace(tzinfo=UTC).timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """Milliseconds since the epoch -> naive UTC."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)


def redis_time_ms(reply) -> int:
    """Redis `TIME`'s reply (seconds, microseconds) -> milliseconds: the clock every process and Lua script share."""
    seconds, micros = reply
    return int(seconds) * 1000 + int(micros) // 1000
