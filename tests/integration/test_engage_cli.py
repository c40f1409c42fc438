"""End-to-end checks of ``hyperdef engage ...`` and ``hyperdef flyout ...``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

_SCRIPT = Path(sys.executable).with_name("hyperdef")
HYPERDEF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hyperdef.cli"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: an SM-6-class battery at the defended point against an MRBM from the mainland
BASE = ["engage", "--interceptor", "sm6", "--threat", "ballistic", "--from", "38,118",
        "--to", "26.2,127.7", "--site", "26.2,127.7", "--draws", "6", "--seed", "3"]


def run(args, cwd):
    return subprocess.run([*HYPERDEF, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("engage_cli")
    commands = {
        "json": [*BASE, "--json", "--out", out / "shots.parquet"],
        "text": BASE,
        "flyout": ["flyout", "--interceptor", "gpi", "--json", "--plot", out / "fan.png"],
        "bad_class": [*BASE, "--interceptor", "thaad"],
        "bad_nav": [*BASE, "--nav-ratio", "0", "--out", out / "none.parquet"],
        "bad_draws": [*BASE, "--draws", "0"],
        "bad_site": [*BASE, "--site", "95,10"],
        "bad_law": [*BASE, "--law", "lead"],
        "bad_out": [*BASE, "--out", out / "shots.csv"],
        "far": ["engage", "--interceptor", "sm6", "--threat", "ballistic", "--from", "38,118",
                "--to", "26.2,127.7", "--site", "10,150", "--draws", "2", "--json"],
    }
    procs = {name: subprocess.Popen([*HYPERDEF, *map(str, args)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, cwd=out)
             for name, args in commands.items()}
    done = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return out, done


def test_json_reports_the_monte_carlo(results):
    out, done = results
    r = done["json"]
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["interceptor"] == "SM-6-class" and d["draws"] == 6
    assert sum(d["statuses"].values()) == 6
    low, high = d["kill_probability_95"]
    assert low <= d["kill_probability"] <= high
    assert d["kill_probability"] >= 0.5, d["statuses"]
    table = pq.read_table(out / "shots.parquet")
    assert table.num_rows == 6
    assert {"miss_m", "status", "kill", "t_intercept"} <= set(table.column_names)


def test_text_output_names_the_kill_probability(results):
    _, done = results
    assert done["text"].returncode == 0, done["text"].stderr
    assert "kill probability" in done["text"].stdout


def test_flyout_reports_the_fan_and_draws_it(results):
    out, done = results
    r = done["flyout"]
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["interceptor"] == "GPI-class"
    assert 1000 < d["max_range_km"] < 3000
    assert any(row["time_s"] is not None for row in d["time_of_flight_s"])
    assert (out / "fan.png").read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize(("name", "field"), [
    ("bad_class", "--interceptor"), ("bad_nav", "nav_ratio"), ("bad_draws", "--draws"),
    ("bad_site", "--site"), ("bad_law", "law"), ("bad_out", "--out"),
])
def test_bad_input_is_one_line_and_exit_2(results, name, field):
    out, done = results
    r = done[name]
    assert r.returncode == 2, (name, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0], lines
    assert not (out / "none.parquet").exists()


def test_out_of_reach_is_a_record_not_an_error(results):
    _, done = results
    d = json.loads(done["far"].stdout)
    assert d["statuses"]["out_of_envelope"] == 2 and d["kill_probability"] == 0.0
