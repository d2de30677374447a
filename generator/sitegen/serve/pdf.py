"""The brochure preview: PDFs rebuilt in a background thread, and their pages as images.

Printing takes seconds (a Chromium per run), so it happens only while someone has
the PDF preview open (or asked for it): after an edit the brochures are marked
stale and rebuilt once the page is looked at; edits made during a run start one more
run afterwards. What a run (or a build) printed is kept in .sitegen/ (pdf/memo.py): a run after an edit prints
only the pages the edit changed. Page images come from `pdftoppm` (poppler) when it is installed.
"""
from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from sitegen.artifacts import Artifact, RenderOptions
from sitegen.build import render_output
from sitegen.content.site import Site
from sitegen.errors import OutputSkipped, SitegenError
from sitegen.serve.preview import Preview

PDF_KEY = "pdf:"


class PdfPreview:
    def __init__(self, preview: Preview, log=lambda _: None):
        self.preview = preview
        self.log = log
        self.files: dict[str, Artifact] = {}
        self.state = "waiting"  # waiting, building, ready, failed, unavailable
        self.message = ""
        self.seconds = 0.0
        self._site: Site | None = None
        self._stale = False
        self._lock = threading.Lock()
        self._running = False
        self._images: Path | None = None  # page images, made in a temporary folder on the first request
        self._pages: dict[str, int] = {}
        self._digests: dict[str, str] = {}
        self._pdftoppm = threading.Lock()
        self._closed = False  # stopped: no more page images
        preview.on_site.append(self.site_changed)

    def close(self) -> None:
        """Remove the page images; a conversion under way ends first, and none starts after (a request that came
        in as the server stopped made its folder again, or wrote into it while it was being removed)."""
        with self._pdftoppm:
            self._closed = True
            if self._images is not None:
                shutil.rmtree(self._images, ignore_errors=True)

    def site_changed(self, site: Site) -> None:
        with self._lock:
            self._site, self._stale = site, True
        if self.preview.viewers.get(PDF_KEY):
            self.request()

    def request(self) -> None:
        """Rebuild now if stale (in the background); called when the preview page is opened."""
        with self._lock:
            if self._running or not self._stale or self._site is None:
                return
            self._running = True
            self.state = "building"  # the page being served now already says so
        threading.Thread(target=self._run, name="sitegen-pdf", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                site, self._stale = self._site, False
            assert site is not None  # request() starts a run only once a site has come
            self.state = "building"
            self.preview.bump([PDF_KEY])
            started = time.perf_counter()
            try:
                # as a build does: what printing made is kept in .sitegen/, so an edit prints only what it changed
                project = self.preview.project.with_template_cache()
                files = render_output("pdf", project, site, RenderOptions(today=self.preview.today)).artifacts
                self._digests = {a.path: hashlib.sha256(a.read()).hexdigest()[:16] for a in files}
                self.files = {a.path: a for a in files}
                self.state, self.message = "ready", ""
            except OutputSkipped as exc:
                self.state, self.message = "unavailable", str(exc)
            except SitegenError as exc:
                self.state, self.message = "failed", str(exc)
            except Exception as exc:  # noqa: BLE001 - shown on the preview page; the server keeps running
                self.state, self.message = "failed", f"{type(exc).__name__}: {exc}"
            self.seconds = time.perf_counter() - started
            self.log(f"pdf: {self.state} in {self.seconds:.1f}s {self.message}".rstrip())
            self.preview.bump([PDF_KEY])
            with self._lock:
                if not self._stale or self.state == "unavailable":
                    self._running = False
                    return

    def page_count(self, name: str) -> int:
        artifact = self.files.get(name)
        if artifact is None:
            return 0
        key = self._digests[name]
        if key not in self._pages:
            from pypdf import PdfReader

            self._pages[key] = len(PdfReader(io.BytesIO(artifact.read())).pages)
        return self._pages[key]

    def page_image(self, name: str, page: int) -> bytes | None:
        """PNG of one page (made on first request, then kept), or None without pdftoppm."""
        artifact = self.files.get(name)
        tool = shutil.which("pdftoppm")
        if artifact is None or tool is None or not 1 <= page <= self.page_count(name):
            return None
        key = self._digests[name]
        with self._pdftoppm:  # the browser asks for many pages at once; one converter at a time
            if self._closed:
                return None
            if self._images is None:
                self._images = Path(tempfile.mkdtemp(prefix="sitegen-serve-pdf-"))
            pdf = self._images / f"{key}.pdf"
            png = self._images / f"{key}-{page}.png"
            if not png.exists():
                self._convert(tool, artifact, pdf, png, page)
        return png.read_bytes()

    def _convert(self, tool: str, artifact: Artifact, pdf: Path, png: Path, page: int) -> None:
        if not pdf.exists():
            pdf.write_bytes(artifact.read())
        stem = png.with_name(png.stem + "-out")
        subprocess.run([tool, "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)],
                       check=True, capture_output=True, timeout=60)
        stem.with_suffix(".png").replace(png)
