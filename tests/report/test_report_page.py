"""The HTML report: numbers equal the summaries, self-contained, escaped, and renders in Chromium."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seismag.errors import SeismagError
from seismag.report import write_report

METRICS = ("f1", "precision", "recall", "specificity", "norm_mcc", "mcc", "accuracy",
           "balanced_accuracy", "roc_auc", "pr_auc")


class ReportParser(HTMLParser):
    """Collects metric cells, marked rows, images, scripts and external references."""

    def __init__(self):
        super().__init__()
        self.cells: dict[tuple[str, int, str], dict] = {}
        self.best_rows: list[tuple[str, int]] = []
        self.images: list[str] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for name in ("src", "href"):
            if name in attrs and not attrs[name].startswith(("data:", "#")):
                self.links.append(attrs[name])
        if tag == "tr" and "data-model" in attrs:
            self._row = (attrs["data-model"], int(attrs["data-window"]))
            if "best-row" in (attrs.get("class") or ""):
                self.best_rows.append(self._row)
        elif tag == "td" and self._row and "data-metric" in attrs:
            self._cell = {**attrs, "text": ""}
            self.cells[(*self._row, attrs["data-metric"])] = self._cell
        elif tag == "img":
            self.images.append(attrs.get("src", ""))

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


@pytest.fixture(scope="session")
def full_report(full_results, tmp_path_factory) -> Path:
    return write_report(full_results, tmp_path_factory.mktemp("report") / "report.html", figure_dpi=45)


def parse(path: Path) -> ReportParser:
    parser = ReportParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_table_numbers_equal_the_summary_json(full_results, full_report):
    parsed = parse(full_report)
    assert len(parsed.cells) == 5 * 3 * len(METRICS)
    for (model, window, metric), cell in parsed.cells.items():
        display = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN", "mlp": "MLP", "transformer": "Transformer"}[model]
        summary = json.loads((full_results / f"{model}_models" / f"{display}Model_{window}day_summary.json")
                             .read_text())
        mean, std = summary["mean"][metric], summary["std"][metric]
        assert float(cell["data-mean"]) == mean and float(cell["data-std"]) == std
        assert cell["text"] == f"{mean:.3f} ± {std:.3f}"


def test_best_model_per_window_is_marked(full_results, full_report):
    parsed = parse(full_report)
    for window in (7, 14, 30):
        f1 = {}
        for model, display in (("gru", "GRU"), ("lstm", "LSTM"), ("rnn", "RNN"), ("mlp", "MLP"),
                               ("transformer", "Transformer")):
            summary = json.loads((full_results / f"{model}_models" / f"{display}Model_{window}day_summary.json")
                                 .read_text())
            f1[model] = summary["mean"]["f1"]
        assert [r for r in parsed.best_rows if r[1] == window] == [(max(f1, key=f1.get), window)]
        best_cells = [k for k, c in parsed.cells.items() if k[1] == window and k[2] == "f1"
                      and "best" in (c.get("class") or "")]
        assert best_cells == [(max(f1, key=f1.get), window, "f1")]


def test_report_is_self_contained(full_report):
    text = full_report.read_text(encoding="utf-8")
    parsed = parse(full_report)
    assert parsed.links == []
    assert "script" not in parsed.tags and "link" not in parsed.tags and "iframe" not in parsed.tags
    assert "http://" not in text and "https://" not in text
    assert len(parsed.images) == 35  # 34 SPEC figures and the reliability diagrams
    for src in parsed.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_content_is_escaped_and_complete(full_report):
    text = full_report.read_text(encoding="utf-8")
    # run_config.json holds "<script>alert('x')</script> & friends"
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; friends" in text
    assert "<script>" not in text
    # protocol with its leakage caveat, escaped
    assert "stratified" in text and "standard" in text and "outer" in text
    assert "Windows of one event may sit on both sides of a fold &lt;not grouped&gt;." in text
    assert "Leakage caveat" in text
    # dataset summary: class balance per window
    assert re.search(r"<td class='name'>7-day</td><td>307</td><td>187</td><td>120</td>", text)
    assert "/data/&lt;seed&gt;" in text
    assert "&quot;seed&quot;: 0" in text  # the run configuration, pretty-printed


def test_partial_report_lists_notes_and_fallbacks(partial_results, tmp_path):
    out = write_report(partial_results, tmp_path / "partial.html", figure_dpi=30)
    text = out.read_text(encoding="utf-8")
    parsed = parse(out)
    assert {m for m, _w, _k in parsed.cells} == {"gru", "lstm", "rnn", "transformer", "tcn"}
    assert ("transformer", 30, "f1") not in parsed.cells
    assert "RNN 14day: no summary JSON; table row from RNNModel_14day_ensemble_config.json" in text
    assert "Transformer: no results for 30day" in text
    assert "No <code>dataset_summary.json</code>" in text
    assert len(parsed.images) == 34


def test_default_location_and_errors(fresh_results, tmp_path):
    out = write_report(fresh_results, figure_dpi=30)
    assert out == fresh_results / "report.html" and out.stat().st_size > 10_000
    with pytest.raises(SeismagError, match=re.escape(str(tmp_path / "empty"))):
        (tmp_path / "empty").mkdir()
        write_report(tmp_path / "empty")


# -- in a real browser ----------------------------------------------------------------

PROBE = """
<img id="probe-control" alt="deliberately broken" src="data:image/png;base64,AAAA">
<script>
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var result = {
    images: images.filter(function (i) { return i.id !== 'probe-control'; })
                  .map(function (i) { return [i.complete, i.naturalWidth, i.naturalHeight]; }),
    control: document.getElementById('probe-control').naturalWidth,
    tables: document.querySelectorAll('table.metrics').length,
    rows: document.querySelectorAll('table.metrics tbody tr').length,
    chance: document.querySelectorAll('#chance-table tbody tr').length,
    width: document.documentElement.scrollWidth
  };
  var pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
});
</script>
"""


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None and Path("/usr/bin/chromium").exists():
        path = "/usr/bin/chromium"
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed, but CI=true: .ci/run must install it")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return path


def _run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_report_renders_in_headless_chromium(full_report, tmp_path):
    chromium = _chromium()
    # The report itself has no script; a copy gets a probe appended that records,
    # after load, whether each image decoded (naturalWidth > 0). A deliberately
    # broken image shows the probe would notice a broken one.
    probe_page = tmp_path / "probe.html"
    text = full_report.read_text(encoding="utf-8")
    probe_page.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = _run_chromium(chromium, tmp_path / "profile-dom", "--virtual-time-budget=10000",
                         "--dump-dom", probe_page.as_uri())
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', done.stdout, re.S)
    assert match, f"probe did not run; stderr: {done.stderr[-2000:]}"
    result = json.loads(html.unescape(match.group(1)))
    assert len(result["images"]) == 35
    broken = [i for i, (complete, width, height) in enumerate(result["images"])
              if not complete or width == 0 or height == 0]
    assert broken == [], f"broken images at positions {broken}"
    assert result["control"] == 0
    assert result["tables"] == 3 and result["rows"] == 15
    assert result["chance"] == 15  # the against-chance table: one row per model and window

    # And a real screenshot of the untouched report: a non-blank picture.
    shot = tmp_path / "report.png"
    done = _run_chromium(chromium, tmp_path / "profile-shot", "--window-size=1280,2400",
                         "--virtual-time-budget=10000", f"--screenshot={shot}", full_report.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1280, 2400)
        grey = np.asarray(image.convert("L"))
    assert grey.std() > 10  # text, tables and figures, not an empty page
