"""ご紹介の流れ (office.referral_flow) drawn on the web and in print, and ご相談窓口 (office.services)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sitegen.cli import main

SITES = Path(__file__).resolve().parent / "sites"

FLOW = [{"step": "ご紹介", "text": "FAXでお送りください。"}, {"step": "予約票の返信"}, {"step": "受診"},
        {"step": "返書", "text": "初診日のうちに<b>ご報告</b>します。"}, {"step": "逆紹介"}]
SERVICES = [{"name": "医療福祉相談室（MSW）", "text": "制度や転院のご相談。", "contacts": ["tel"]},
            {"name": "がん相談支援センター", "contacts": []}]


def site_with(tmp_path: Path, **office) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    data = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))
    data["office"].update(office)
    (site / "site.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return site


def build(site: Path, *args: str):
    return CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25", *args])


def test_the_flow_is_an_ordered_list_in_order_and_services_list_their_lines(tmp_path):
    site = site_with(tmp_path, referral_flow=FLOW, services=SERVICES)
    result = build(site, "--only", "site")
    assert result.exit_code == 0, result.output
    guides = (site / "build/site/guides/index.html").read_text(encoding="utf-8")
    flow = re.search(r'<ol class="referral-flow">(.*?)</ol>', guides, re.S).group(1)
    titles = re.findall(r'<strong class="flow-title">(.*?)</strong>', flow)
    assert titles == ["ご紹介", "予約票の返信", "受診", "返書", "逆紹介"]
    assert "&lt;b&gt;ご報告&lt;/b&gt;" in flow and "<b>" not in flow  # YAML text is escaped
    access = (site / "build/site/access.html").read_text(encoding="utf-8")
    services = re.search(r'<ul class="services">(.*?)</ul>', access, re.S).group(1)
    assert "医療福祉相談室（MSW）" in services and "制度や転院のご相談。" in services
    assert "03-0000-1001" in services and "がん相談支援センター" in services


def test_without_a_flow_or_services_nothing_is_drawn(tmp_path):
    site = site_with(tmp_path)
    assert build(site, "--only", "site").exit_code == 0
    assert 'class="referral-flow"' not in (site / "build/site/guides/index.html").read_text(encoding="utf-8")
    assert 'class="services"' not in (site / "build/site/access.html").read_text(encoding="utf-8")


def test_an_unknown_service_line_and_too_many_steps_are_reported_at_their_lines(tmp_path):
    site = site_with(tmp_path / "a", referral_flow=[{"step": f"手順{i}"} for i in range(9)])
    result = build(site, "--only", "site")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert re.search(r"site\.yaml:\d+: office\.referral_flow: .*at most 8", result.output), result.output
    site = site_with(tmp_path / "c", referral_flow=[{"step": "ご紹介"}, {"text": "題なし"}])
    result = build(site, "--only", "site")
    assert re.search(r"site\.yaml:\d+: office\.referral_flow\[1\]\.step", result.output), result.output
    site = site_with(tmp_path / "b", services=[{"name": "MSW", "contacts": ["tell"]}])
    result = build(site, "--only", "site")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert re.search(r"site\.yaml:\d+: office\.services\[0\]\.contacts\[0\]: unknown contact 'tell'.*'tel'",
                     result.output), result.output


@pytest.mark.browser
@pytest.mark.slow
def test_the_guidebook_draws_the_flow_with_arrows_and_lists_the_services(tmp_path, chromium_path):
    site = site_with(tmp_path, referral_flow=FLOW, services=SERVICES)
    result = build(site, "--only", "pdf", "--browser", chromium_path)
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(site / "build/pdf/guidebook.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = "".join(text.split())
    assert "ご紹介の流れ" in flat and "ご相談窓口" in flat and "医療福祉相談室（MSW）" in flat
    order = [flat.index(step) for step in ("予約票の返信", "返書", "逆紹介")]
    assert order == sorted(order) and flat.count("→") >= 4
