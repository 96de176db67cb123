# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""audit_report.html: self-contained, escaped, images embedded, and readable in a real browser."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_samples import EVIL_URL, ready_result, sample_result, write_png

from pytest_release_audit.report.html import render_html
from pytest_release_audit.report.model import AuditResult, CheckResult, ModelRef

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
URL_ATTRS = {"src", "href", "srcset", "action", "formaction", "data", "poster", "background", "xlink:href"}


class _Page(HTMLParser):
    """Collects what makes a page fetch or run anything, and the ids / fragment links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()
        self.event_attrs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in URL_ATTRS:
                self.urls.append((tag, name, value or ""))
            if name == "id":
                self.ids.add(value or "")
            if name.startswith("on"):
                self.event_attrs.append(name)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture()
def blocked_page(tmp_path: Path) -> tuple[str, Path]:
    out = tmp_path / "out"
    return render_html(sample_result(out, evil_model=True), out), out


def test_html_is_self_contained(blocked_page):
    html, _ = blocked_page
    page = _parse(html)
    assert not {"script", "link", "iframe", "object", "embed", "base", "form"} & set(page.tags)
    assert page.event_attrs == []
    for tag, attr, url in page.urls:
        if attr == "src":
            assert url.startswith("data:image/"), (tag, url[:60])
        else:
            assert url.startswith(("#", "./")), (tag, attr, url)
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", html, re.I)
    assert "url(" not in html  # no CSS fetches (fonts, backgrounds)
    assert "@import" not in html
    assert "default-src 'none'" in html  # CSP: nothing loads, nothing runs
    assert EVIL_URL in "".join(page.text)  # a URL in evidence is shown as inert text


def test_hostile_values_are_escaped(blocked_page):
    html, _ = blocked_page
    assert "<script>" not in html and "</script>" not in html
    assert "<b>model</b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(" in html
    assert "\x1b" not in html and "[31m" not in html and "[1m" not in html
    text = "".join(_parse(html).text)
    assert "{{ 7*7 }}" in text and "{{ x }}" in text  # template syntax in data is shown, not evaluated
    assert "evil<b>model</b>{{ x }}| v2 (@candidate)" in text  # shown exactly, as text


def test_plots_are_embedded_as_data_uris(blocked_page):
    html, out = blocked_page
    uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    embedded = {base64.b64decode(u) for u in uris}
    assert (out / "plots" / "performance_gate.png").read_bytes() in embedded
    assert (out / "plots" / "bias.png").read_bytes() in embedded
    assert len(uris) == 2


def test_artifacts_outside_the_report_dir_are_not_read(tmp_path):
    out = tmp_path / "out"
    result = sample_result(out)
    secret = write_png(tmp_path / "outside.png", 33, 7)  # what "../outside.png" points at
    html = render_html(result, out)
    assert base64.b64encode(secret.read_bytes()).decode()[:60] not in html
    assert "../outside.png" in html and "not found in the report directory" in html


def test_other_artifacts_are_relative_links(blocked_page):
    html, _ = blocked_page
    assert 'href="./security.sarif"' in html


def test_banner_shows_status_and_links_every_blocking_check(blocked_page):
    html, _ = blocked_page
    page = _parse(html)
    assert re.search(r'<span id="status">BLOCKED</span>', html)
    assert 'class="banner blocked"' in html
    banner = html.split("</header>", 1)[0]
    for check_id in ("pii", "security", "reproducibility", "approvals"):
        assert f'href="#check-{check_id}"' in banner
        assert f"check-{check_id}" in page.ids
    fragments = {url[1:] for _, attr, url in page.urls if attr == "href" and url.startswith("#")}
    assert fragments <= page.ids  # every in-page link has a target


def test_ready_banner(tmp_path):
    html = render_html(ready_result(), tmp_path)
    assert '<span id="status">READY</span>' in html and 'class="banner ready"' in html
    assert "Blocked by" not in html


def test_evidence_tables_for_metrics_findings_and_subgroups(blocked_page):
    html, _ = blocked_page
    text = " ".join(" ".join(_parse(html).text).split())
    # performance_gate metrics: estimate, CI, delta with sign, gate verdict and its rule
    assert "C-index c_index 0.7134 [0.6871, 0.7390] 0.6912 [0.6640, 0.7181] +0.0222 [0.0051, 0.0398] 0.7131" in text
    assert "0.7131 pass Integrated Brier score ibs" in text  # the gate's verdict per metric
    # pii findings: masked samples only
    assert "clinical_train notes EMAIL_ADDRESS 14 j***@e******.com" in text
    # bias subgroups with status badges
    assert "age_band 80+ 23 0.61 [0.48, 0.74] fail" in text
    assert '<span class="pill bad">fail</span>' in html
    assert "<details open>" in html  # evidence of blocking checks starts expanded


def test_lineage_is_a_readable_chain_in_order(blocked_page):
    html, _ = blocked_page
    section = html.split('<section id="lineage">', 1)[1].split("</section>", 1)[0]
    names = re.findall(r'<div class="name">([^<]*)</div>', section)
    assert names == ["clinical_raw", "clinical_train", "train-cl-unimodal-v2", "cl_unimodal_v2"]
    assert section.count('class="arrow"') == 3
    assert 'href="#check-lineage"' in section


def test_never_ran_required_check_is_listed(blocked_page):
    html, _ = blocked_page
    table = html.split('<table class="checks">', 1)[1]
    row = table.split('href="#check-approvals"', 1)[1].split("</tr>", 1)[0]
    assert "did not run" in row and "blocks" in row


def test_print_styles_expand_evidence(blocked_page):
    html, _ = blocked_page
    print_css = html.split("@media print", 1)[1].split("</style>", 1)[0]
    assert "details::details-content" in print_css and "content-visibility: visible" in print_css


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    argv = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--hide-scrollbars", *args,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: apt-get install chromium)")
@pytest.mark.parametrize(("status", "rgb_check"), [("BLOCKED", "red"), ("READY", "green")])
def test_renders_in_headless_chromium(tmp_path, status, rgb_check):
    from PIL import Image

    out = tmp_path / "out"
    result = sample_result(out) if status == "BLOCKED" else ready_result()
    page = out / "audit_report.html"
    out.mkdir(parents=True, exist_ok=True)
    page.write_text(render_html(result, out), encoding="utf-8")

    dom = _chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'<span id="status">{status}</span>' in dom.stdout
    assert '<a href="#check-performance_gate">performance_gate</a>' in dom.stdout

    shot = tmp_path / "report.png"
    run = _chromium([f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()], tmp_path)
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        r, g, b = image.convert("RGB").getpixel((20, 20))  # the status banner
    if rgb_check == "red":
        assert r > 150 and g < 90 and b < 90, (r, g, b)
    else:
        assert g > 110 and r < 90 and b < 120, (r, g, b)


def test_nested_evidence_renders_as_readable_rows(tmp_path):
    sha = "5e27c3d690987ac89552d40a1ddf67ff57937e3819e668310982a84adb0becdc"
    check = CheckResult(
        "data_integrity", "Digests", "passed", True, (), "ok",
        {
            "datasets": [
                {"name": "train", "digests": [{"kind": "file_sha256", "logged": sha, "match": True}]},
            ],
            "bandit": {"counts": {"HIGH": 0, "LOW": 2}, "findings": [], "version": "1.9.4"},
            "deep": {"a": {"b": {"c": [1, 2]}}},
        },
    )  # fmt: skip
    result = AuditResult("READY", ModelRef("m", "1"), None, "production", "", "", "0.1.0", (check,), ())
    html = render_html(result, tmp_path)
    assert '<span class="cline">kind file_sha256 · logged 5e27c3d69098… · match yes</span>' in html
    assert '<span class="cline">HIGH 0 · LOW 2</span>' in html
    assert "<td>none</td>" in html  # an empty list says so
    assert '<pre class="json">' in html and "&#34;c&#34;: [" in html  # too deep for a table: pretty JSON
