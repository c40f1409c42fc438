"""``hyperdef run`` writes a self-contained report.html; write_report with the scenario."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

_SCRIPT = Path(sys.executable).with_name("hyperdef")
HYPERDEF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hyperdef.cli"]
ROOT = Path(__file__).resolve().parents[2]
SINGLE = ROOT / "scenarios" / "single_hgv.yaml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "single"
    r = subprocess.run(
        [*HYPERDEF, "run", str(SINGLE), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    return out, json.loads(r.stdout)


def _pngs(text: str) -> list[bytes]:
    return [base64.b64decode(m, validate=True) for m in IMAGE.findall(text)]


def _check_self_contained(text: str) -> None:
    low = text.lower()
    for bad in ('src="http', "src='http", "<script src", 'href="http', "href='http", "url(http"):
        assert bad not in low, f"report refers outside itself: {bad!r}"
    assert "<link" not in low, "report links an external resource"


def test_run_writes_self_contained_report(run_out):
    out, summary = run_out
    report = out / "report.html"
    assert report.is_file()
    assert summary["outputs"]["report"] == str(report.resolve())
    assert not list(out.glob(".*.tmp")), "temporary file left behind"
    text = report.read_text(encoding="utf-8")
    assert len(text.encode()) < 3_000_000, f"report is {len(text.encode())} bytes"
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    _check_self_contained(text)
    # key numbers
    assert "single_hgv" in text
    assert f'<b id="kpi-shots">{summary["shots"]}</b>' in text
    assert f'<b id="kpi-kills">{summary["kills"]}</b>' in text
    assert f'<b id="kpi-leakers">{summary["leakers"]}</b>' in text
    first = summary["threats"][0]["first_detection"]
    assert f"{first['t_s']:,.1f}" in text and first["sensor_id"] in text
    for node, m in summary["tracking"].items():
        assert f"{node}: firm track / warning, s" in text
        assert f"{m['rmse_pos_m']:,.1f}" in text
    # figures: map, profile, detection timeline, one error figure per node at least
    images = _pngs(text)
    assert len(images) >= 5, f"only {len(images)} images"
    assert all(png.startswith(PNG_SIGNATURE) for png in images)
    assert all(len(png) > 5_000 for png in images), "an image looks empty"
    # the engagement table has one row per engagement record
    shots = pq.read_table(out / "engagements.parquet").to_pylist()
    assert text.count('<tr class="engagement">') == len(shots) >= 1
    for shot in shots:
        assert f"<td class=l>{shot['battery_id']}</td>" in text
        assert f"<td class=l>{shot['status']}</td>" in text


def test_write_report_with_scenario_adds_battlespace(tmp_path):
    from hyperdef.report.html import write_report
    from hyperdef.scenario import load_scenario
    from hyperdef.simulation import run_scenario

    scenario = load_scenario(SINGLE)
    result = run_scenario(scenario)
    path = tmp_path / "report.html"
    write_report(result, scenario, path)
    text = path.read_text(encoding="utf-8")
    _check_self_contained(text)
    images = _pngs(text)
    assert len(images) >= 6 and all(png.startswith(PNG_SIGNATURE) for png in images)
    assert 'id="fig-battlespace-0"' in text and "sm6-okinawa" in text
    assert text.count('<tr class="engagement">') == result.engagements.num_rows
    # text from the run is escaped
    result.summary["scenario"] = "<script>alert(1)</script>"
    write_report(result, scenario, path)
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium for a headless render")
def test_report_renders_in_headless_browser(run_out, tmp_path):
    import matplotlib.image

    out, _ = run_out
    shot = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    r = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            (out / "report.html").resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.is_file(), f"no screenshot (rc {r.returncode}): {r.stderr[-2000:]}"
    pixels = matplotlib.image.imread(shot)
    rgb = np.asarray(pixels)[..., :3].astype(float)
    if rgb.max() > 1.0:
        rgb /= 255.0
    assert np.mean(rgb < 0.9) > 0.001, "screenshot is blank"
    shutil.rmtree(profile, ignore_errors=True)
