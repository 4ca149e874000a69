"""An uploaded file kept for a short time between its check (dry run) and "Nhập ngay", so the organiser imports
exactly the file that was checked without sending it again.

Kept in Redis (every app process sees it) under an unguessable token, with a TTL, and bound to the user who
uploaded it: another user, an unknown or an expired token gets a clear error and nothing is imported. A token
is claimed once (HSETNX), so a double click cannot import the file twice.
"""

import re
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from question_bank.services import BankError

TTL_SECONDS = 30 * 60
_PREFIX = "qb:import:"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class StagedImportError(BankError):
    """The stored upload cannot be imported (expired, someone else's, already imported); Vietnamese message."""


@dataclass(frozen=True)
class StagedUpload:
    token: str
    user_id: int
    fmt: str
    filename: str
    category: tuple[str, ...]
    skip_unsupported: bool
    data: bytes


def _redis():
    # The binary client (the file is bytes); the text client would decode it.
    return current_app.extensions["redis_bytes"]


def stage_upload(
    user_id: int, data: bytes, fmt: str, filename: str, category: tuple[str, ...], skip_unsupported: bool
) -> str:
    """Keeps a checked upload for TTL_SECONDS; returns the token the confirmation form carries."""
    token = secrets.token_urlsafe(24)
    key = _PREFIX + token
    pipe = _redis().pipeline(transaction=True)
    pipe.hset(
        key,
        mapping={
            "user": str(user_id),
            "fmt": fmt,
            "filename": filename,
            "category": "\x1f".join(category),
            "skip": "1" if skip_unsupported else "0",
            "data": data,
        },
    )
    pipe.expire(key, TTL_SECONDS)
    pipe.execute()
    return token


def _expired():
    return StagedImportError(
        _(
            "Tệp đã kiểm tra không còn được giữ (quá %(n)s phút hoặc đã nhập); vui lòng chọn tệp và kiểm tra lại.",
            n=TTL_SECONDS // 60,
        )
    )


def claim_staged(token: str, user_id: int) -> StagedUpload:
    """The stored upload of `token`, claimed for import by `user_id` (its uploader); raises StagedImportError."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise _expired()
    key = _PREFIX + token
    client = _redis()
    owner = client.hget(key, "user")
    if owner is None:
        raise _expired()
    if int(owner) != user_id:
        raise StagedImportError(_("Tệp này do người khác tải lên nên bạn không thể nhập; hãy tải tệp của bạn lên."))
    if not client.hsetnx(key, "claimed", "1"):
        raise StagedImportError(_("Tệp này đang được nhập hoặc đã được nhập."))
    fields = client.hgetall(key)
    if b"data" not in fields:  # expired between the two reads
        raise _expired()
    category = fields[b"category"].decode()
    return StagedUpload(
        token=token,
        user_id=user_id,
        fmt=fields[b"fmt"].decode(),
        filename=fields[b"filename"].decode(),
        category=tuple(category.split("\x1f")) if category else (),
        skip_unsupported=fields[b"skip"] == b"1",
        data=fields[b"data"],
    )


def finish_staged(token: str, imported: bool) -> None:
    """After the import: delete the stored file, or release the claim when nothing was written (it can be retried)."""
    key = _PREFIX + token
    if imported:
        _redis().delete(key)
    else:
        _redis().hdel(key, "claimed")
