"""Contest banner images: checked by decoding them (not by the file name), stored under var/uploads/banners."""

import io
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from contest.organise.services import OrganiseError
from contest.rounds.models import Contest
from infra.config import VAR_DIR
from infra.extensions import db

MAX_BANNER_BYTES = 2 * 1024 * 1024
MAX_BANNER_PIXELS = 4096 * 4096
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def banner_dir() -> Path:
    path = Path(current_app.config.get("UPLOAD_DIR") or VAR_DIR / "uploads") / "banners"
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_banner(data: bytes) -> str:
    """The file extension for an acceptable banner; OrganiseError with a Vietnamese message otherwise."""
    if not data:
        raise OrganiseError({"banner": _("Tệp ảnh bìa trống.")})
    if len(data) > MAX_BANNER_BYTES:
        raise OrganiseError({"banner": _("Ảnh bìa quá lớn: tối đa 2 MB.")})
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            width, height = image.size
            image.verify()  # catches truncated and corrupt files that merely start with a valid header
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise OrganiseError(
            {"banner": _("Tệp tải lên không phải ảnh hợp lệ. Chỉ nhận ảnh JPEG, PNG hoặc WebP.")}
        ) from None
    if fmt not in FORMATS:
        raise OrganiseError({"banner": _("Định dạng ảnh không được hỗ trợ. Chỉ nhận ảnh JPEG, PNG hoặc WebP.")})
    if width * height > MAX_BANNER_PIXELS:
        raise OrganiseError({"banner": _("Ảnh bìa có kích thước quá lớn (tối đa 4096 × 4096 điểm ảnh).")})
    return FORMATS[fmt]


def save_banner(contest: Contest, data: bytes, commit=True) -> str:
    """Stores a new banner under a random name (so a cached old banner is never served for the new one)."""
    ext = check_banner(data)
    name = f"{contest.id}-{secrets.token_hex(8)}.{ext}"
    target = banner_dir() / name
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    old = contest.banner_path
    contest.banner_path = name
    if commit:
        db.session.commit()
    if old and old != name:
        (banner_dir() / Path(old).name).unlink(missing_ok=True)
    return name


def remove_banner(contest: Contest, commit=True) -> None:
    old = contest.banner_path
    contest.banner_path = None
    if commit:
        db.session.commit()
    if old:
        (banner_dir() / Path(old).name).unlink(missing_ok=True)
