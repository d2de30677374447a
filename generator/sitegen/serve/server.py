"""The preview's HTTP server (stdlib), serving everything from memory.

  /<base path>/…          the website, as `sitegen build` makes it, plus the live-reload script
  /__sitegen/events        Server-Sent Events: reload, or the list of errors for the overlay
  /__sitegen/mail/         each newsletter issue at 600 px (desktop) and 375 px (phone)
  /__sitegen/pdf/          the brochures, rebuilt in the background, and their pages as images
  /__sitegen/status        the latest rebuild as JSON (tests, benchmark)
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
import posixpath
import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sitegen.serve import pages
from sitegen.serve.pdf import PDF_KEY, PdfPreview
from sitegen.serve.preview import Preview

LIVE_JS = (Path(__file__).resolve().parent.parent / "data" / "serve" / "live.js").read_bytes()
KEEPALIVE_SECONDS = 15


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, preview: Preview, pdf: PdfPreview, prefix: str, allow_hosts: tuple[str, ...] = ()):
        super().__init__(address, Handler)
        self.preview = preview
        self.pdf = pdf
        self.prefix = prefix  # "/renkei/": the path of site.base_url, so links work as published
        self.allowed = allowed_hosts(address[0], self.server_address[1], allow_hosts)


def allowed_hosts(host: str, port: int, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The Host headers the preview answers: the bound address and the loopback names, with the port.
    Anything else (a DNS-rebinding page's own name) is refused, so no other site can read the preview."""
    names = {host, *extra}
    if host in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"):
        names |= {"127.0.0.1", "localhost", "::1"}
    out = set()
    for name in names:
        name = name.strip().lower()
        shown = f"[{name}]" if ":" in name and not name.startswith("[") else name
        out.add(f"{shown}:{port}")
        if port == 80:
            out.add(shown)
    return frozenset(out)


class Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet: the console shows rebuilds, not requests
        pass

    def do_GET(self):  # noqa: N802
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in self.server.allowed:
            body = (f"sitegen serve answers only requests for {', '.join(sorted(self.server.allowed))} "
                    f"(this one was for {host or 'no host'}).").encode()
            return self._send(body, "text/plain; charset=utf-8", HTTPStatus.MISDIRECTED_REQUEST)
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = parse_qs(url.query)
        try:
            if path.startswith("/__sitegen/"):
                self._tool(path[len("/__sitegen/"):], query)
            else:
                self._site(path)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # noqa: BLE001 - one failed request must not look like a dead server
            body = f"sitegen serve: {type(exc).__name__}: {exc}".encode()
            try:
                self._send(body, "text/plain; charset=utf-8", HTTPStatus.INTERNAL_SERVER_ERROR)
            except OSError:
                pass

    # --- the website ---------------------------------------------------------------------------

    def _site(self, path: str) -> None:
        prefix = self.server.prefix
        if not path.startswith(prefix):
            if path in ("/", prefix.rstrip("/")):
                return self._redirect(prefix)
            return self._not_found(path)
        rel = posixpath.normpath(path[len(prefix):] or ".")
        if rel.startswith(".."):
            return self._not_found(path)
        preview = self.server.preview
        rel = "" if rel == "." else rel
        artifact, version = preview.get("site", rel)
        if artifact is None and not preview.site_files:
            return self._html(pages.no_site(), key=rel or "index.html", version=version, status=HTTPStatus.SERVICE_UNAVAILABLE)
        if artifact is None:
            index = posixpath.join(rel, "index.html") if rel else "index.html"
            artifact, version = preview.get("site", index)
            if artifact is not None and rel and not path.endswith("/"):
                return self._redirect(path + "/")
            rel = index
        if artifact is None:
            return self._not_found(path)
        if rel.endswith(".html"):
            return self._html(artifact.read(), key=rel, version=version)
        self._send_asset(artifact.read(), _type(rel))

    def _not_found(self, path: str) -> None:
        artifact, version = self.server.preview.get("site", "404.html")
        body = artifact.read() if artifact else pages.simple("見つかりません", f"{path} はありません。")
        self._html(body, key="404.html", version=version, status=HTTPStatus.NOT_FOUND)

    # --- sitegen's own pages ---------------------------------------------------------------------

    def _tool(self, rest: str, query: dict) -> None:
        preview, pdf = self.server.preview, self.server.pdf
        if rest == "live.js":
            return self._send(LIVE_JS, "text/javascript; charset=utf-8")
        if rest == "events":
            return self._events(query.get("key", ["index.html"])[0], int(query.get("v", ["0"])[0] or 0))
        if rest == "status":
            return self._send(json.dumps(pages.status(preview, pdf), ensure_ascii=False).encode(), "application/json")
        if rest == "":
            return self._html(pages.tools_index(self.server.prefix), key="tools:", version=preview.version)
        if rest == "mail/":
            return self._html(pages.mail_index(preview), key="mail:", version=preview.version)
        if rest.startswith("mail/"):
            artifact, _ = preview.get("mail", rest[len("mail/"):])
            if artifact is None:
                return self._not_found("/__sitegen/" + rest)
            return self._send(self._local_links(artifact.read()), _type(artifact.path))
        if rest == "pdf/":
            pdf.request()
            return self._html(pages.pdf_index(pdf), key=PDF_KEY, version=preview.version)
        if rest.startswith("pdf/file/"):
            artifact = pdf.files.get(rest[len("pdf/file/"):])
            return self._send(artifact.read(), "application/pdf") if artifact else self._not_found("/__sitegen/" + rest)
        match = re.fullmatch(r"pdf/page/(\d+)/(.+)", rest)
        if match:
            png = pdf.page_image(match.group(2), int(match.group(1)))
            return self._send(png, "image/png") if png else self._not_found("/__sitegen/" + rest)
        self._not_found("/__sitegen/" + rest)

    def _events(self, key: str, seen: int) -> None:
        preview = self.server.preview
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        preview.viewing(key, seen, +1)
        try:
            version, showed_errors = -1, False
            while True:
                state = preview.state_for(key, seen)
                if state["version"] != version:
                    version = state["version"]
                    self.wfile.write(b"data: " + json.dumps(state, ensure_ascii=False).encode() + b"\n\n")
                    self.wfile.flush()
                    if not state["errors"] and (state["stale"] or showed_errors):
                        return  # the tab reloads now and connects again; do not count it twice meanwhile
                    showed_errors = bool(state["errors"])
                if preview.wait(version, KEEPALIVE_SECONDS) == version:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            preview.viewing(key, seen, -1)

    def _local_links(self, body: bytes) -> bytes:
        """A mail links to the public site (images, 「ブラウザで見る」); the preview shows this server's copy."""
        site = self.server.preview.site
        host = self.headers.get("Host")
        if site is None or not host or not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", host):
            return body
        return body.replace(site.settings.base_url.encode(), f"http://{host}{self.server.prefix}".encode())

    # --- responses -----------------------------------------------------------------------------------

    def _html(self, body: bytes, *, key: str, version: int, status=HTTPStatus.OK) -> None:
        self._send(inject(body, key, version), "text/html; charset=utf-8", status)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_asset(self, body: bytes, content_type: str) -> None:
        """A stylesheet, script or image: revalidated on every use (an edited theme file shows at once), but a
        reload whose files did not change gets `304 Not Modified` and the browser keeps what it had parsed."""
        tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if tag in [t.strip() for t in (self.headers.get("If-None-Match") or "").split(",")]:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", tag)
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", tag)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def _send(self, body: bytes, content_type: str, status=HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def inject(html: bytes, key: str, version: int) -> bytes:
    """The page with the live-reload script before </body> (served pages only, never build/)."""
    tag = (f'<script src="/__sitegen/live.js" data-key="{_attr(key)}" data-version="{version}"></script>').encode()
    at = html.lower().rfind(b"</body>")
    return html[:at] + tag + html[at:] if at >= 0 else html + tag


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _type(path: str) -> str:
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return guessed + "; charset=utf-8" if guessed.startswith("text/") or guessed.endswith(("xml", "json")) else guessed
