"""`sitegen serve`: a local preview that rebuilds what an edit affects and reloads the browser.

`start(project, today, host, port)` builds once, then watches site.yaml, content/ and
themes/ and serves the website, the newsletters and the brochures from memory
(nothing is written to build/). The CLI runs it until Ctrl-C.
"""
from __future__ import annotations

import datetime as dt
import queue
import threading
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from sitegen.content.load import read_site_data
from sitegen.project import Project
from sitegen.serve.pdf import PdfPreview
from sitegen.serve.preview import Preview, Rebuild
from sitegen.serve.server import PreviewServer
from sitegen.serve.watch import snapshot, watch


@dataclass
class Running:
    server: PreviewServer
    preview: Preview
    pdf: PdfPreview
    url: str
    _stop: threading.Event
    _serving: bool = False

    def serve_forever(self) -> None:
        self._serving = True
        self.server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self._stop.set()
        if self._serving:  # shutdown() waits for the serving loop to end: it would wait for ever before it starts
            self.server.shutdown()
        self.server.server_close()
        self.pdf.close()


def start(project: Project, today: dt.date, host: str = "127.0.0.1", port: int = 8000,
          log: Callable[[str], None] = lambda _: None, report: Callable[[Rebuild], None] = lambda _: None,
          allow_hosts: tuple[str, ...] = ()) -> Running:
    """Build once, bind the server (port 0: any free port) and start watching. Serve with .serve_forever()."""
    preview = Preview(project, today, log)
    pdf = PdfPreview(preview, log)
    server = PreviewServer((host, port), preview, pdf, "/", allow_hosts)  # bind first: a busy port fails at once
    before = snapshot(project.root)  # an edit saved during the first build is seen
    report(preview.rebuild(None))
    if preview.site is not None:
        server.prefix = urlsplit(preview.site.settings.base_url).path or "/"
    else:
        server.prefix = _prefix_from_file(project)
    prefix = server.prefix
    stop = threading.Event()
    jobs: queue.Queue[set[str]] = queue.Queue()

    def worker() -> None:
        while not stop.is_set():
            changed = jobs.get()
            while not jobs.empty():  # edits that arrived meanwhile: one rebuild
                changed |= jobs.get_nowait()
            report(preview.rebuild(changed))

    threading.Thread(target=worker, name="sitegen-rebuild", daemon=True).start()
    threading.Thread(target=watch, args=(project.root, jobs.put, stop.is_set, before), name="sitegen-watch",
                     daemon=True).start()
    bound_host, bound_port = server.server_address[:2]
    assert isinstance(bound_host, str)  # an IPv4/IPv6 socket's address; bytes only for AF_UNIX
    url = f"http://{bound_host}:{bound_port}{prefix}"
    return Running(server, preview, pdf, url, stop)


def _prefix_from_file(project: Project) -> str:
    """The base path when the first build failed (so the URL stays the same once it is fixed)."""
    site = read_site_data(project).get("site")
    base = str(site.get("base_url") or "") if isinstance(site, dict) else ""
    path = urlsplit(base).path if base.startswith(("http://", "https://")) else ""
    path = path or "/"
    return path if path.endswith("/") else path + "/"
