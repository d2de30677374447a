"""The preview's state: the site rendered in memory, rebuilt after each edit.

A rebuild reloads the content (only changed files are read, validated and converted from Markdown again: see
`sources.PARSE_CACHE` and `load.READ`), then renders in three steps and publishes after each one:

1. the pages made from the changed files and the pages open in a browser right now,
   so the tab being looked at reloads as soon as possible;
2. every other page of the website (only pages whose bytes changed count as changed);
3. the newsletters (mail preview); the brochures are rebuilt in the background by `pdf.py`.

Each published path remembers the version at which its bytes last changed. A browser
tab knows the version it was served at and reloads when its page is newer. Content
errors are kept as a list for the overlay; the last good pages stay served meanwhile.
"""
from __future__ import annotations

import collections
import datetime as dt
import gc
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, TypeVar

import jinja2

from sitegen.artifacts import Artifact, RenderOptions
from sitegen.build import load_site
from sitegen.content import load
from sitegen.content.site import Site
from sitegen.content.sources import PARSE_CACHE
from sitegen.errors import ContentError, SitegenError
from sitegen.mail import render as mail
from sitegen.project import Project
from sitegen.templates import template_error, theme_mistake
from sitegen.web import deps
from sitegen.web import render as web

K = TypeVar("K")

MAIL_KEY = "mail:"  # the mail preview page watches this key


@dataclass
class Rebuild:
    """What one rebuild did, for the console and the benchmark."""

    trigger: tuple[str, ...]
    load_seconds: float = 0.0
    first_seconds: float = 0.0  # until the pages in step 1 were published
    total_seconds: float = 0.0
    first_pages: int = 0
    rendered: int = 0  # pages (and files made from the whole site) rendered in step 2: the others' inputs had not changed
    changed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # each as "file:line: warning: field: message"


def _settle() -> None:
    """After a rebuild: collect its garbage, then freeze what is left (the site, the memo, the pages served), so
    that the collector does not walk those objects again and again during the next rebuild. At 10,000 pages that
    walking was a third of the time until the edited page was shown. Unfrozen first, so that objects that became
    garbage since the last rebuild are collected too."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _add(counter: collections.Counter[K], key: K, delta: int) -> None:
    """Add `delta` to the count of `key`; a count that drops to zero or below is removed."""
    counter[key] += delta
    if counter[key] <= 0:
        del counter[key]


class Preview:
    def __init__(self, project: Project, today: dt.date, log: Callable[[str], None] = lambda _: None):
        self.project = project
        self.today = today
        self.log = log
        self.cond = threading.Condition()
        self.site_files: dict[str, Artifact] = {}
        self.mail_files: dict[str, Artifact] = {}
        self.versions: dict[str, int] = {}  # path or key -> version at which it last changed
        self.version = 0
        self.assets_version = 0  # version at which a stylesheet, script or picture last changed
        self.errors: list[str] = []
        self.viewers: collections.Counter[str] = collections.Counter()  # paths open in browsers
        self._tabs: collections.Counter[tuple[str, int]] = collections.Counter()  # (path, version served)
        self.site: Site | None = None  # the latest valid Site
        self.history: list[Rebuild] = []
        self.on_site: list[Callable] = []  # called with each new valid site (the PDF preview)
        self._env: jinja2.Environment | None = None
        self._memo = load.Memo()
        self._web_record: dict | None = None  # what each page read when last rendered (web/deps.py)
        self._stamps: dict[str, tuple | None] = {}

    # --- reading (HTTP threads) -------------------------------------------------------------

    def get(self, files: str, path: str) -> tuple[Artifact | None, int]:
        with self.cond:
            store = self.site_files if files == "site" else self.mail_files
            return store.get(path), self.version

    def wait(self, since: int, timeout: float) -> int:
        """Block until the version passes `since` (or the timeout); returns the version."""
        with self.cond:
            self.cond.wait_for(lambda: self.version > since, timeout=timeout)
            return self.version

    def state_for(self, key: str, seen: int) -> dict:
        """What a tab showing `key` (served at version `seen`) should do now."""
        with self.cond:
            return {"version": self.version, "errors": list(self.errors),
                    "stale": self.versions.get(key, 0) > seen,
                    "assets": self.assets_version > seen}  # stale because of an asset: reload, not swap

    def viewing(self, key: str, seen: int, delta: int) -> None:
        """A tab showing `key`, served at version `seen`, connected (+1) or went away (-1)."""
        with self.cond:
            _add(self.viewers, key, delta)
            _add(self._tabs, (key, seen), delta)
            self.cond.notify_all()

    def _let_tabs_reload(self, keys: list[str], version: int, tabs: collections.Counter, timeout: float = 1.0) -> None:
        """Wait (briefly) until the tabs showing `keys` have reloaded, before rendering the rest.

        The rest of the rebuild runs in this process and would slow down serving the reload.
        `tabs` are the viewers counted before publishing (their streams end once told to reload).
        """
        with self.cond:
            before = sum(tabs[k] for k in keys)
            if before:
                self.cond.wait_for(lambda: sum(n for (k, seen), n in self._tabs.items()
                                               if k in keys and seen >= version) >= before, timeout=timeout)

    def bump(self, keys: list[str], assets: bool = False) -> None:
        """Publish: the given keys changed now (used by the PDF preview too); `assets`: a stylesheet, script or
        picture changed, so open tabs reload whole."""
        with self.cond:
            self.version += 1
            if assets:
                self.assets_version = self.version
            for k in keys:
                self.versions[k] = self.version
            self.cond.notify_all()

    # --- rebuilding (one worker thread) -------------------------------------------------------

    def rebuild(self, changed: set[str] | None = None) -> Rebuild:
        """Rebuild after `changed` (paths relative to the site; None = everything)."""
        started = time.perf_counter()
        report = Rebuild(tuple(sorted(changed or ())))
        token = PARSE_CACHE.set(self._memo)
        try:
            self._rebuild(changed, report, started)
        except ContentError as exc:
            report.errors = exc.lines()
        except jinja2.TemplateError as exc:
            report.errors = [str(template_error(exc))]
        except SitegenError as exc:
            report.errors = [str(exc)]
        except Exception as exc:  # noqa: BLE001 - the server keeps running; the overlay shows it
            mistake = theme_mistake(exc, self.project)
            if mistake is not None:
                report.errors = [str(mistake)]
            else:
                report.errors = [f"internal error while rebuilding: {type(exc).__name__}: {exc}"]
                self.log(traceback.format_exc())
        finally:
            PARSE_CACHE.reset(token)
        if report.errors:
            with self.cond:
                self.errors = report.errors
            self.bump([])
        report.total_seconds = time.perf_counter() - started
        self.history.append(report)
        _settle()
        return report

    def _rebuild(self, changed: set[str] | None, report: Rebuild, started: float) -> None:
        load.forget(self._memo, changed)  # read again even when an edit kept the file's stamp
        site, warnings = load_site(self.project, self.today, preview=True)
        self._memo.prune()
        report.load_seconds = time.perf_counter() - started
        report.warnings = [str(w) for w in warnings]
        theme_changed = changed is None or any(p.startswith("themes/") for p in changed)
        if self._env is None or self.site is None or theme_changed or site.settings.theme != self.site.settings.theme:
            self._env = web.environment(self.project, site)
        env = self._env

        # 1. pages made from the changed files, and pages open in a browser
        with self.cond:
            tabs = collections.Counter(self.viewers)
            open_now = set(tabs)
        if changed and not theme_changed:
            first = [p for p in web.pages(site) if p.path in open_now or set(p.sources) & changed]
            fresh = [web.render_page(env, site, p) for p in first]
            report.first_pages = len(fresh)
            published = self._publish("site", fresh, remove_missing=False, clear_errors=True)
            if self._web_record is not None:  # rendered from this site, not from what the record says: never kept
                for page in first:
                    self._web_record["pages"].pop(page.path, None)
            report.changed += published
            report.first_seconds = time.perf_counter() - started
            self._let_tabs_reload([p for p in published if p in open_now], self.version, tabs)

        # 2. the whole website; only the pages whose bytes changed are published as changed
        #    (a page whose inputs are those it was last rendered from is the page kept in memory: web/deps.py)
        last = deps.Previous(self._web_record, lambda path, _: self.site_files.get(path))
        rendered = web.render(self.project, site, RenderOptions(today=self.today), env=env, previous=last)
        self._web_record = rendered.record.state() if rendered.record is not None else None
        report.rendered = (len(rendered.record.pages) if rendered.record is not None
                           else rendered.counts.get("pages", 0)) - rendered.kept
        report.changed += self._publish("site", rendered.artifacts, remove_missing=True, clear_errors=True)
        if not report.first_seconds:
            report.first_seconds = time.perf_counter() - started
        self.site = site
        for callback in self.on_site:
            callback(site)

        # 3. the newsletters
        issues = mail.render(self.project, site, RenderOptions(today=self.today)).artifacts
        self._publish("mail", issues, remove_missing=True, clear_errors=False)

    def _publish(self, files: str, artifacts: list[Artifact], *, remove_missing: bool, clear_errors: bool) -> list[str]:
        """Store artifacts; bump the version of those whose bytes changed. Returns their paths."""
        with self.cond:
            store = self.site_files if files == "site" else self.mail_files
            new = {a.path: a for a in artifacts}
            changed = []
            for p, a in new.items():
                if not self._same(store.get(p), a):
                    changed.append(p)
            gone = [p for p in store if p not in new] if remove_missing else []
            store.update(new)
            for p in gone:
                del store[p]
            keys = changed + gone
            assets = files == "site" and any(not k.endswith(".html") for k in keys)
            if assets:
                keys += list(self.viewers)  # a stylesheet or picture changed: reload every open tab
            if files == "mail":
                keys = [MAIL_KEY] if keys else []
            had_errors = bool(self.errors)
            if clear_errors:
                self.errors = []
        if keys or (had_errors and clear_errors):
            self.bump(keys, assets=assets)
        return changed + gone

    def _same(self, old: Artifact | None, new: Artifact) -> bool:
        if new.data is not None:
            return old is not None and old.data == new.data
        # copied files (images, forms, theme assets) are read when served: compare their stat
        assert new.copy_from is not None, f"artifact {new.path} has neither data nor copy_from"
        try:
            st = os.stat(new.copy_from)
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        before = self._stamps.get(new.path)
        self._stamps[new.path] = stamp
        return old is not None and old.copy_from == new.copy_from and before == stamp
