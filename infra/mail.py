"""Outgoing mail through a pluggable sender chosen by MAIL_SENDER: "smtp" (smtplib + email, the production
sender) or "console" (development and tests: the message is logged, kept in an in-process outbox and, when
MAIL_CONSOLE_FILE is set, appended to that file as one JSON line, so a test driving a server in another
process can read it). Production refuses the console sender unless MAIL_ALLOW_CONSOLE is set (infra.config)."""

import json
import logging
import smtplib
import ssl
import threading
from collections import deque
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol

from flask import current_app

log = logging.getLogger("contest.mail")
SENDERS = ("smtp", "console")


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class MailError(RuntimeError):
    """The message could not be handed to the mail server (the caller logs it; the person is not told more)."""


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


class SmtpSender:
    """One SMTP connection per message (resets are rare): STARTTLS or implicit TLS, optional login."""

    def __init__(self, config):
        self.host = config["SMTP_HOST"]
        self.port = int(config["SMTP_PORT"])
        self.security = config["SMTP_SECURITY"]  # "starttls", "ssl" or "none"
        self.username = config.get("SMTP_USERNAME")
        self.password = config.get("SMTP_PASSWORD")
        self.timeout = int(config["SMTP_TIMEOUT"])
        self.sender = config["MAIL_FROM"]
        self.sender_name = config.get("MAIL_FROM_NAME") or ""

    def build(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = formataddr((self.sender_name, self.sender)) if self.sender_name else self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        email.set_content(message.body)
        return email

    def send(self, message: Message) -> None:
        email = self.build(message)
        context = ssl.create_default_context()
        try:
            if self.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP {self.host}:{self.port}: {exc}") from exc


class ConsoleSender:
    """Development and tests: nothing leaves the machine. Keeps the last 50 messages (`outbox`)."""

    def __init__(self, config):
        self.path = config.get("MAIL_CONSOLE_FILE")
        self.outbox: deque[Message] = deque(maxlen=50)
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        log.info("mail (console sender) to=%s subject=%s\n%s", message.to, message.subject, message.body)
        with self._lock:
            self.outbox.append(message)
            if self.path:
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(asdict(message), ensure_ascii=False) + "\n")


def init_app(app) -> None:
    """Creates the app's sender once (app.extensions["mail"]); the setting was checked by the config class."""
    kind = app.config.get("MAIL_SENDER") or "console"
    if kind not in SENDERS:
        raise RuntimeError(f"MAIL_SENDER must be one of {', '.join(SENDERS)}, not {kind!r}")
    app.extensions["mail"] = SmtpSender(app.config) if kind == "smtp" else ConsoleSender(app.config)


def sender() -> Sender:
    return current_app.extensions["mail"]


def send_mail(to: str, subject: str, body: str) -> None:
    """Sends through the app's sender; MailError when the server refused or could not be reached."""
    sender().send(Message(to=to, subject=subject, body=body))
