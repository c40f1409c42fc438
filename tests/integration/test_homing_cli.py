"""End-to-end checks of ``hyperdef homing ...`` (the installed console script).

The commands are independent processes, started together once per module.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = Path(sys.executable).with_name("hyperdef")
HYPERDEF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hyperdef.cli"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: the standard case of VALIDATION.md: N' = 4, T = 1 s, 4,000 ft/s, 3 g, t_F = 10 s
STANDARD = ["homing", "--law", "pn", "--nav-ratio", "4", "--time-constant", "1",
            "--flight-time", "10", "--closing-speed", "1219.2", "--missile-speed", "900",
            "--target-accel-g", "3", "--heading-error-deg", "0"]
SWEEP = [*STANDARD, "--sweep-flight-time", "0.5:6:0.5", "--json"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("homing_cli")
    commands = {
        "single": [*STANDARD, "--json"],
        "text": STANDARD,
        "forward": SWEEP,
        "adjoint": [*SWEEP, "--adjoint"],
        "plot_sweep": [*SWEEP, "--plot", out / "sweep.png"],
        "plot_run": [*STANDARD, "--law", "apn", "--plot", out / "run.png", "--json"],
        "nav0": [*STANDARD, "--nav-ratio", "0", "--plot", out / "nav0.png"],
        "tau": [*STANDARD, "--time-constant", "-1"],
        "law": [*STANDARD, "--law", "foo"],
        "sweep_bad": [*STANDARD, "--sweep-flight-time", "5:1:1"],
        "plot_dir": [*STANDARD, "--plot", out / "missing" / "x.png"],
    }
    procs = {name: subprocess.Popen([*HYPERDEF, *map(str, args)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
             for name, args in commands.items()}
    done = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        done[name] = (proc.returncode, stdout, stderr)
    return out, done


def ok_json(result) -> dict:
    code, stdout, stderr = result
    assert code == 0, f"exit {code}\n{stdout}\n{stderr}"
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line, got:\n{stdout}"
    return json.loads(lines[0])


def test_single_run_json_has_miss_and_inputs(results):
    obj = ok_json(results[1]["single"])
    want = 100 * math.exp(-10) * (1 - 10 / 3) / 2 * 3 * 9.80665   # Zarchan ch. 4, signed
    assert abs(obj["miss_m"] - abs(want)) < 1e-3 * abs(want), obj
    for key, value in (("law", "pn"), ("nav_ratio", 4.0), ("time_constant_s", 1.0),
                       ("flight_time_s", 10.0), ("closing_speed_m_s", 1219.2),
                       ("target_accel_g", 3.0), ("heading_error_deg", 0.0)):
        assert obj[key] == value, f"{key}: {obj[key]!r} != {value!r}"


def test_text_output_prints_the_miss_in_metres(results):
    code, stdout, _ = results[1]["text"]
    assert code == 0 and stdout.startswith("miss 0.1558") and stdout.rstrip().endswith("m")


def test_adjoint_sweep_equals_forward_sweep(results):
    fwd = ok_json(results[1]["forward"])["sweep"]
    adj = ok_json(results[1]["adjoint"])["sweep"]
    assert [r["flight_time_s"] for r in fwd] == pytest.approx(
        [0.5 * k for k in range(1, 13)])
    peak = max(r["miss_m"] for r in fwd)
    for f, a in zip(fwd, adj, strict=True):
        assert f["flight_time_s"] == a["flight_time_s"]
        assert abs(f["miss_m"] - a["miss_m"]) < 1e-4 * peak, (f, a)


def test_plot_writes_png(results):
    out, done = results
    assert ok_json(done["plot_sweep"])["outputs"]["plot"] == str(out / "sweep.png")
    assert (out / "sweep.png").read_bytes()[:8] == PNG_SIGNATURE
    ok_json(done["plot_run"])
    assert (out / "run.png").read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize(("name", "fragment"), [
    ("nav0", "--nav-ratio: 0"),
    ("tau", "--time-constant: -1"),
    ("law", "--law: 'foo' is not one of pn, apn, zem"),
    ("sweep_bad", "--sweep-flight-time: '5:1:1'"),
    ("plot_dir", "--plot: directory"),
])
def test_bad_input_exits_2_with_one_line(results, name, fragment):
    out, done = results
    code, stdout, stderr = done[name]
    assert code == 2, f"{name}: exit {code}\n{stderr}"
    assert stdout == "" and "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], stderr
    assert not (out / "nav0.png").exists(), "a failed command must leave no file"
