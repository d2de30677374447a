"""DNS rebinding: `sitegen serve` answers only requests addressed to the address it is bound to
(a page on attacker.example that rebinds its name to 127.0.0.1 sends `Host: attacker.example:PORT`)."""
from __future__ import annotations

import datetime as dt
import http.client
import shutil
from pathlib import Path

import pytest

from sitegen.project import Project
from sitegen.serve import start
from sitegen.serve.server import allowed_hosts

SITES = Path(__file__).resolve().parent / "sites"


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    root = tmp_path_factory.mktemp("hosts") / "site"
    shutil.copytree(SITES / "minimal", root)
    server = start(Project.at(root), dt.date(2026, 11, 25), "127.0.0.1", 0)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.stop()


def request(running, path: str, host: str | None) -> tuple[int, bytes]:
    port = running.server.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", path, skip_host=True)
    if host is not None:
        conn.putheader("Host", host.replace("PORT", str(port)))
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


PATHS = ["/", "/__sitegen/status", "/__sitegen/mail/", "/__sitegen/events?key=index.html&v=999999", "/__sitegen/pdf/"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("host", ["attacker.example:PORT", "attacker.example", "127.0.0.1.nip.io:PORT",
                                  "localhost.attacker.example:PORT", "127.0.0.1:1", None])
def test_requests_for_another_host_are_refused(running, path, host):
    status, body = request(running, path, host)
    assert status == 421 and b"answers only requests for" in body
    assert b"<html" not in body.lower() and b"{" not in body  # nothing of the site, status or mail


@pytest.mark.parametrize("host", ["127.0.0.1:PORT", "localhost:PORT", "LOCALHOST:PORT", "[::1]:PORT"])
def test_the_bound_address_and_loopback_names_are_served(running, host):
    status, body = request(running, "/__sitegen/status", host)
    assert status == 200 and body.startswith(b"{")


def test_a_named_host_is_served_only_when_allowed():
    assert "preview.lan:8000" in allowed_hosts("192.168.1.5", 8000, ("preview.lan",))
    assert "192.168.1.5:8000" in allowed_hosts("192.168.1.5", 8000)
    assert "localhost:8000" not in allowed_hosts("192.168.1.5", 8000)
