"""Structured logging: JSON lines in production, readable text in development."""

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def configure_logging(app):
    handler = logging.StreamHandler(sys.stderr)
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(
            JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level"})
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    # Replace handlers we installed earlier (tests create many apps in one process).
    for old in [h for h in root.handlers if getattr(h, "_contest", False)]:
        root.removeHandler(old)
    handler._contest = True
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
