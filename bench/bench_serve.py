"""Edit-to-reload time of `sitegen serve` on the example hospital, in a real browser.

    .venv/bin/python bench/bench_serve.py            # 15 runs
    .venv/bin/python bench/bench_serve.py --runs 30

Copies the example site (repo root) to a temporary folder, starts `sitegen serve` on a
free port, opens a doctor's page in headless Chromium (Playwright), then per run: rewrites
the doctor's `message:` line and measures the time from just before the file is written
until the page in the browser shows the new text (watcher + rebuild + reload + render).
Prints every run, the median and the slowest, and the server's own timings.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCTOR = "abe-yuta"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from sitegen.chromium import LAUNCH_ARGS, find_browser

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        shutil.copy(REPO / "site.yaml", site)
        shutil.copytree(REPO / "content", site / "content")
        if (REPO / "themes").is_dir():
            shutil.copytree(REPO / "themes", site / "themes")
        doctor = site / "content" / "doctors" / f"{DOCTOR}.md"
        if not doctor.is_file():
            doctor = sorted((site / "content" / "doctors").glob("*.md"))[0]
        original = doctor.read_text(encoding="utf-8")
        if not re.search(r"^message:", original, re.M):
            original = original.replace("\n---", "\nmessage: 初期値\n---", 1)
            doctor.write_text(original, encoding="utf-8")

        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "sitegen", "serve", "--source", str(site), "--port", str(port),
                                 "--date", "2026-11-25"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            url = None
            for line in proc.stdout:
                match = re.search(r"Serving (http://\S+)", line)
                if match:
                    url = match.group(1)
                    break
            if url is None:
                sys.exit("serve did not start")
            times = []
            server_first = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=find_browser(), args=list(LAUNCH_ARGS))
                page = browser.new_page()
                page.goto(f"{url}doctors/{doctor.stem}.html")
                page.wait_for_selector("script[data-key]", state="attached")
                time.sleep(0.5)
                for i in range(args.runs):
                    marker = f"計測{i:03d}番目の変更です"
                    text = re.sub(r"^message:.*$", f"message: {marker}", original, count=1, flags=re.M)
                    t0 = time.perf_counter()
                    doctor.write_text(text, encoding="utf-8")
                    page.wait_for_function("m => document.body && document.body.innerText.includes(m)", arg=marker,
                                           polling="raf", timeout=20_000)
                    elapsed = time.perf_counter() - t0
                    times.append(elapsed)
                    time.sleep(1.5)  # let the rest of the rebuild finish, as between two real edits
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__sitegen/status") as r:
                        last = json.loads(r.read())["last"]
                    server_first.append(last["first_seconds"])
                    print(f"run {i + 1:2d}: {elapsed * 1000:6.0f} ms   (server: load {last['load_seconds'] * 1000:.0f} ms, "
                          f"page published {last['first_seconds'] * 1000:.0f} ms, whole rebuild {last['total_seconds'] * 1000:.0f} ms)")
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"\nedit-to-reload on the example site ({args.runs} runs): median {statistics.median(times) * 1000:.0f} ms, "
          f"slowest {max(times) * 1000:.0f} ms; server rebuild to first page: median "
          f"{statistics.median(server_first) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
