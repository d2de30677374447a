"""The one-click unsubscribe endpoint: a small WSGI application to deploy at `newsletter.unsubscribe_url`.

    gunicorn --bind 127.0.0.1:8081 sitegen.send.unsubscribe_app:application
    (with SITEGEN_UNSUBSCRIBE_STORE=/var/lib/sitegen/unsubscribes.jsonl in its environment)

- POST with the body `List-Unsubscribe=One-Click` (RFC 8058; form-encoded or multipart), as mail programs
  send it for their unsubscribe button, and as the confirmation page's button sends it: appends the token
  of the URL (`?u=…`) and the time as one JSON line to the store, and answers 200.
- GET: a short Japanese page with a 「配信停止」 button that posts back. A GET never unsubscribes
  (link scanners and previews open links).
- A malformed token is refused (400); nothing is stored.

It never sees the partner list or any address: it stores only tokens, which only the office can trace
back (`sitegen unsubscribes import STORE` with the secret and the list). Standard library only, so the
file can also be copied alone to a web server. Environment (os.environ or the WSGI environ, e.g. mod_wsgi's
SetEnv): SITEGEN_UNSUBSCRIBE_STORE (required), SITEGEN_UNSUBSCRIBE_NAME (the sender shown on the page).
"""
from __future__ import annotations

import datetime as dt
import fcntl
import html
import json
import os
import re
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

STORE_ENV = "SITEGEN_UNSUBSCRIBE_STORE"
NAME_ENV = "SITEGEN_UNSUBSCRIBE_NAME"
TOKEN = re.compile(r"[0-9a-f]{32}")  # partners.TOKEN_FORMAT (kept here so this file needs nothing else)
MAX_BODY = 4096
MAX_STORE_BYTES = 50_000_000  # a flood of forged tokens cannot fill the disk
ONE_CLICK = ("List-Unsubscribe", "One-Click")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]

_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),  # the token is in the URL
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
]
_STATUS = {200: "200 OK", 400: "400 Bad Request", 405: "405 Method Not Allowed", 413: "413 Content Too Large",
           500: "500 Internal Server Error", 503: "503 Service Unavailable"}


def make_app(store: str | Path | None = None, name: str | None = None) -> WSGIApp:
    """The application; `store` and `name` default to the environment (read on each request)."""

    def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        settings = (store or environ.get(STORE_ENV) or os.environ.get(STORE_ENV) or "",
                    name if name is not None else (environ.get(NAME_ENV) or os.environ.get(NAME_ENV) or ""))
        code, body = _handle(environ, str(settings[0]), str(settings[1]))
        headers = list(_HEADERS) + [("Content-Length", str(len(body)))]
        if code == 405:
            headers.append(("Allow", "GET, HEAD, POST"))
        start_response(_STATUS[code], headers)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    return app


application = make_app()


def _handle(environ: dict, store: str, name: str) -> tuple[int, bytes]:
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD", "POST"):
        return 405, _page("ご利用いただけません", "<p>この操作には対応していません。</p>")
    try:
        tokens = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=10).get("u", [])
    except ValueError:  # too many fields
        return 400, _invalid()
    if len(tokens) != 1 or not TOKEN.fullmatch(tokens[0]):
        return 400, _invalid()
    token = tokens[0]
    if method != "POST":
        return 200, _confirm(token, name)
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 400, _invalid()
    if length > MAX_BODY:
        return 413, _invalid()
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    fields = _form(environ.get("CONTENT_TYPE", ""), body)
    if fields.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        return 400, _invalid()
    how = "page" if fields.get("via") == "page" else "one-click"
    if not store:
        _log(environ, f"{STORE_ENV} is not set: the opt-out was not stored")
        return 500, _unavailable()
    try:
        stored = _append(Path(store), token, how)
    except OSError as exc:
        _log(environ, f"cannot write {store}: {exc}")
        return 500, _unavailable()
    if not stored:
        _log(environ, f"{store} is larger than {MAX_STORE_BYTES} bytes: import it and start a new one")
        return 503, _unavailable()
    return 200, _done(name)


def _form(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a form body: application/x-www-form-urlencoded or multipart/form-data (RFC 8058 allows both)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    out: dict[str, str] = {}
    if kind == "multipart/form-data":
        head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
        msg = BytesParser(policy=HTTP).parsebytes(head + body)
        if msg.is_multipart():
            for part in msg.iter_parts():
                field = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                if isinstance(field, str) and isinstance(payload, bytes):
                    out.setdefault(field, payload.decode("utf-8", "replace").strip())
        return out
    try:
        for key, values in parse_qs(body.decode("utf-8", "replace").strip(), max_num_fields=10).items():
            out[key] = values[0]
    except ValueError:  # too many fields: not the one-click body
        return {}
    return out


def _append(store: Path, token: str, how: str) -> bool:
    """One JSON line, under an exclusive lock, flushed to disk. False when the store is full."""
    line = json.dumps({"token": token, "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                       "how": how}) + "\n"
    fd = os.open(store, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_size + len(line) > MAX_STORE_BYTES:
            return False
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
        return True
    finally:
        os.close(fd)  # also releases the lock


def _log(environ: dict, message: str) -> None:
    errors = environ.get("wsgi.errors")
    if errors is not None:
        errors.write(f"sitegen unsubscribe: {message}\n")
        errors.flush()


# --- pages (everything that comes from outside is escaped) ----------------------------------------------


def _page(title: str, content: str) -> bytes:
    return f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; line-height: 1.7; color: #1a1a1a; max-width: 36em; margin: 2em auto; padding: 0 1em; }}
button {{ font-size: 1.1em; padding: .6em 2em; border: 0; border-radius: 4px; background: #0b5394; color: #fff; cursor: pointer; }}
button:focus {{ outline: 3px solid #f1a900; outline-offset: 2px; }}
</style>
</head>
<body>
<main>
<h1>{html.escape(title)}</h1>
{content}
</main>
</body>
</html>
""".encode("utf-8")


def _sender(name: str) -> str:
    return f"{html.escape(name)}からの" if name else ""


def _confirm(token: str, name: str) -> bytes:
    action = html.escape(f"?u={token}", quote=True)
    return _page("メール配信の停止", f"""<p>{_sender(name)}メール（ニュースレター）の配信を停止します。よろしければ、下の「配信停止」ボタンを押してください。</p>
<form method="post" action="{action}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<input type="hidden" name="via" value="page">
<p><button type="submit">配信停止</button></p>
</form>
<p>ボタンを押すまで、配信は停止されません。</p>""")


def _done(name: str) -> bytes:
    return _page("配信停止を受け付けました", f"<p>{_sender(name)}メールの配信停止を受け付けました。次回の配信から停止いたします。</p>")


def _invalid() -> bytes:
    return _page("このリンクはご利用いただけません",
                 "<p>配信停止のリンクが正しくないか、途中で切れています。お手数ですが、届いたメールのリンクをもう一度お試しいただくか、"
                 "メールの返信で配信停止をお知らせください。</p>")


def _unavailable() -> bytes:
    return _page("ただいま受け付けられません",
                 "<p>申し訳ありません。ただいま配信停止を受け付けられません。時間をおいてもう一度お試しいただくか、"
                 "メールの返信で配信停止をお知らせください。</p>")
