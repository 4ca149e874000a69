"""Conversion between the organisers' wall clock (Asia/Ho_Chi_Minh) and the naive UTC the database stores."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_to_utc(local: datetime) -> datetime:
    """A naive wall-clock time in Việt Nam -> naive UTC."""
    return local.replace(tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def utc_to_local(utc: datetime) -> datetime:
    """Naive UTC from the database -> naive wall-clock time in Việt Nam (what a form field shows)."""
    return utc.replace(tzinfo=UTC).astimezone(LOCAL_TZ).replace(tzinfo=None)


def format_local(utc: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Việt Nam time, the way published rules write it."""
    if utc is None:
        return ""
    return utc_to_local(utc).strftime("%d/%m/%Y %H:%M")
