"""End-to-end checks of the ``hyperdef`` console script (``hyperdef fly ...``).

Every command runs the installed console script in a subprocess, so exit codes, the
split of stdout and stderr, and the absence of tracebacks are checked as a user sees
them. The flights are started together once per module (they are independent
processes) and the tests read their results, which keeps the file to a few tens of
seconds on two cores.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import hyperdef

_SCRIPT = Path(sys.executable).with_name("hyperdef")
HYPERDEF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hyperdef.cli"]

KAUAI = "22.0,-159.8"
KWAJALEIN = "9.4,167.5"
#: the issue's acceptance command
ACCEPTANCE = ["fly", "hgv", "--from", KAUAI, "--to", KWAJALEIN, "--json"]
TRUTH_COLUMNS = ["object_id", "kind", "t", "x", "y", "z", "vx", "vy", "vz",
                 "lat", "lon", "alt", "mach"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT_S = 300


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one JSON line on stdout, got:\n{self.stdout}"
        obj = json.loads(lines[0])
        assert isinstance(obj, dict)
        return obj

    def explain(self) -> str:
        return (f"hyperdef {' '.join(self.args)} -> {self.returncode}\n"
                f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}")


def run_many(commands: dict[str, list[str]]) -> dict[str, Result]:
    """Run several ``hyperdef`` commands concurrently; results by name."""
    procs = {name: subprocess.Popen([*HYPERDEF, *map(str, args)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
             for name, args in commands.items()}
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=TIMEOUT_S)
        results[name] = Result(list(map(str, commands[name])), proc.returncode, out, err)
    return results


def run(*args: str) -> Result:
    return run_many({"one": list(args)})["one"]


@pytest.fixture(scope="module")
def outdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli_outputs")


@pytest.fixture(scope="module")
def flights(outdir) -> dict[str, Result]:
    seed = ["fly", "hgv", "--from", KAUAI, "--to", KWAJALEIN, "--json", "--seed"]
    return run_many({
        "acceptance": ACCEPTANCE,
        "hgv_files": ["fly", "hgv", "--from", KAUAI, "--to", KWAJALEIN, "--maneuver", "weave",
                      "--out", outdir / "hgv.parquet", "--plot", outdir / "hgv.png", "--json"],
        # about 805 km east of Kauai
        "hcm": ["fly", "hcm", "--from", KAUAI, "--to", "22.0,-152.0", "--json",
                "--out", outdir / "hcm.parquet", "--plot", outdir / "hcm.png"],
        # about 1,220 km east of Kauai; human-readable output
        "ballistic": ["fly", "ballistic", "--from", " 22.0, -159.8 ", "--to", "22.0,-148.0",
                      "--out", outdir / "ballistic.parquet", "--launch-time", "60"],
        "seed7a": [*seed, "7"],
        "seed7b": [*seed, "7"],
        "seed8": [*seed, "8"],
    })


def ok(result: Result) -> Result:
    assert result.returncode == 0, result.explain()
    assert "Traceback" not in result.stdout + result.stderr, result.explain()
    return result


# --- the acceptance command ------------------------------------------------------------

def test_acceptance_prints_one_json_object_with_the_key_figures(flights):
    summary = ok(flights["acceptance"]).json()
    for key in ("range_km", "flight_time_s", "max_mach", "min_glide_alt_km",
                "max_glide_alt_km", "max_alt_km", "impact_lat", "impact_lon",
                "miss_to_aim_km", "fraction_above_mach5"):
        assert key in summary, f"{key} missing from {sorted(summary)}"
    assert summary["kind"] == "hgv"
    assert summary["maneuver"] == "none"
    assert summary["seed"] is None
    assert summary["launch"] == [22.0, -159.8]
    assert summary["aim"] == [9.4, 167.5]
    assert summary["outputs"] == {}


def test_acceptance_flight_is_plausible(flights):
    s = ok(flights["acceptance"]).json()
    assert 3_500 < s["range_km"] < 4_000, f"Kauai-Kwajalein is ~3,760 km, got {s['range_km']}"
    assert s["flight_time_s"] < 1_800, f"flight took {s['flight_time_s']} s"
    assert s["miss_to_aim_km"] < 5, f"missed the aim by {s['miss_to_aim_km']} km"
    assert 25 <= s["min_glide_alt_km"], f"glide went down to {s['min_glide_alt_km']} km"
    assert s["max_glide_alt_km"] <= 60, f"glide went up to {s['max_glide_alt_km']} km"
    assert s["fraction_above_mach5"] > 0.5, s["fraction_above_mach5"]
    assert s["max_mach"] > 5, s["max_mach"]
    assert abs(s["impact_lat"] - 9.4) < 0.05 and abs(s["impact_lon"] - 167.5) < 0.05


def test_json_mode_keeps_stdout_to_the_object_and_stderr_quiet(flights):
    result = ok(flights["acceptance"])
    assert result.stdout.count("\n") == 1 and result.stdout.lstrip().startswith("{")
    assert result.stderr.strip() == "", "no spinner or message on a non-terminal stderr"


# --- output files ----------------------------------------------------------------------

def test_out_and_plot_write_truth_table_and_png(flights, outdir):
    s = ok(flights["hgv_files"]).json()
    parquet, png = outdir / "hgv.parquet", outdir / "hgv.png"
    assert s["outputs"] == {"out": str(parquet), "plot": str(png)}
    assert s["maneuver"] == "weave"
    table = pq.read_table(parquet)
    missing = [c for c in TRUTH_COLUMNS if c not in table.column_names]
    assert not missing, f"truth.parquet columns missing: {missing}"
    assert table.num_rows > 100
    assert set(table.column("kind").to_pylist()) == {"hgv"}
    lat, lon, alt = (table.column(c).to_pylist() for c in ("lat", "lon", "alt"))
    assert abs(lat[0] - 22.0) < 1e-6 and abs(lon[0] + 159.8) < 1e-6, "lat/lon in degrees"
    assert abs(lat[-1] - 9.4) < 0.05 and abs(lon[-1] - 167.5) < 0.05
    assert alt[-1] < 100.0
    assert png.read_bytes()[:8] == PNG_SIGNATURE


def test_hcm_flies_and_writes_its_files(flights, outdir):
    s = ok(flights["hcm"]).json()
    assert s["kind"] == "hcm"
    assert 760 < s["range_km"] < 850, s["range_km"]
    assert s["miss_to_aim_km"] < 5
    assert pq.read_table(outdir / "hcm.parquet").num_rows > 10
    assert (outdir / "hcm.png").read_bytes()[:8] == PNG_SIGNATURE


def test_ballistic_flies_with_a_human_summary(flights, outdir):
    result = ok(flights["ballistic"])
    assert "ballistic" in result.stdout and "range" in result.stdout
    assert "wrote out" in result.stdout
    table = pq.read_table(outdir / "ballistic.parquet")
    t, lat, lon = (table.column(c).to_pylist() for c in ("t", "lat", "lon"))
    assert t[0] == pytest.approx(60.0), "--launch-time sets the first sample's time"
    assert abs(lat[-1] - 22.0) < 0.05 and abs(lon[-1] + 148.0) < 0.05


def test_no_temporary_files_left_beside_the_outputs(flights, outdir):
    names = sorted(p.name for p in outdir.iterdir())
    assert names == ["ballistic.parquet", "hcm.parquet", "hcm.png", "hgv.parquet", "hgv.png"]


# --- seeds -----------------------------------------------------------------------------

def test_same_seed_gives_identical_json(flights):
    a, b = ok(flights["seed7a"]).json(), ok(flights["seed7b"]).json()
    assert a["seed"] == 7
    assert a == b


def test_different_seeds_differ_slightly(flights):
    a, b = ok(flights["seed7a"]).json(), ok(flights["seed8"]).json()
    a.pop("seed"), b.pop("seed")
    assert a != b, "seeds 7 and 8 gave the same flight"
    assert b["flight_time_s"] == pytest.approx(a["flight_time_s"], rel=0.05)
    assert b["range_km"] == pytest.approx(a["range_km"], rel=0.01)
    assert b["miss_to_aim_km"] < 5 and a["miss_to_aim_km"] < 5


# --- bad input -------------------------------------------------------------------------

FLY = ["fly", "hgv", "--from", KAUAI, "--to", KWAJALEIN]
BAD_INPUT = {
    "latitude": (["fly", "hgv", "--from", "95,0", "--to", KWAJALEIN], ["--from", "[-90, 90]"]),
    "maneuver": ([*FLY, "--maneuver", "loop"], ["--maneuver", "weave"]),
    "mass": ([*FLY, "--mass", "-5"], ["--mass", "positive"]),
    "dt": ([*FLY, "--dt", "0"], ["--dt", "positive"]),
    "beyond reach": (["fly", "hgv", "--from", KAUAI, "--to", "-22.0,20.2"], ["reach"]),
    "malformed": (["fly", "hgv", "--from", "22", "--to", KWAJALEIN], ["--from", "LAT,LON"]),
    "unknown kind": (["fly", "glider", "--from", KAUAI, "--to", KWAJALEIN], ["KIND", "hgv"]),
    "maneuver for hcm": (["fly", "hcm", "--from", KAUAI, "--to", "22.0,-152.0",
                          "--maneuver", "weave"], ["maneuver", "none"]),
    "unknown option": ([*FLY, "--speed", "3"], ["--speed"]),
}


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory) -> dict[str, tuple[Result, Path]]:
    dirs = {name: tmp_path_factory.mktemp("bad") for name in BAD_INPUT}
    results = run_many({name: [*args, "--out", dirs[name] / "x.parquet",
                               "--plot", dirs[name] / "x.png"]
                        for name, (args, _) in BAD_INPUT.items()})
    return {name: (results[name], dirs[name]) for name in BAD_INPUT}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_clear_line(case, bad_runs):
    result, directory = bad_runs[case]
    fragments = BAD_INPUT[case][1]
    assert result.returncode == 2, result.explain()
    assert "Traceback" not in result.stdout + result.stderr, result.explain()
    assert result.stdout == "", result.explain()
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("error: ", "Error: "))]
    assert len(errors) == 1, result.explain()
    if errors[0].startswith("error: "):
        assert len(lines) == 1, f"hyperdef errors are one line:\n{result.stderr}"
    for fragment in fragments:
        assert fragment in errors[0], f"{fragment!r} not in {errors[0]!r}"
    assert list(directory.iterdir()) == [], "a failed command must leave no file"


@pytest.mark.parametrize("args, fragment", [
    ([*FLY, "--out", "{dir}/missing/x.parquet"], "--out: directory"),
    ([*FLY, "--out", "{dir}/x.csv"], "--out"),
    ([*FLY, "--plot", "{dir}/x.jpg"], "--plot"),
])
def test_bad_output_path_is_refused_before_flying(args, fragment, tmp_path):
    result = run(*[a.format(dir=tmp_path) for a in args])
    assert result.returncode == 2, result.explain()
    assert result.stderr.startswith(f"error: {fragment}"), result.explain()
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


# --- the rest of the interface ---------------------------------------------------------

def test_version():
    result = ok(run("--version"))
    assert result.stdout.strip() == f"hyperdef {hyperdef.__version__}"


def test_help_lists_kinds_and_maneuvers():
    text = ok(run("fly", "--help")).stdout
    for word in ("hgv", "hcm", "ballistic", "none", "weave", "skip", "--from", "--to",
                 "--seed", "--launch-time", "--mass", "--dt", "--out", "--plot", "--json"):
        assert word in text, f"{word} missing from fly --help"
