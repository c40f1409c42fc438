"""Command-line interface: ``hyperdef fly | homing | coverage | engage | flyout | track |
run | demo | compare | campaign`` (and the joint ISR commands of :mod:`hyperdef.service.cli`).

A thin layer over the Python API: it parses degrees at the edge, converts them to
radians, calls :func:`hyperdef.threats.fly`, and writes or prints what comes back. No
physics lives here.

Every :class:`hyperdef.errors.HyperdefError` becomes one line ``error: <message>`` on
stderr and exit code 2, without a traceback; usage errors (an unknown kind, manoeuvre
or option) are reported by click, also with exit code 2. Output files are checked
before the flight and written atomically, so a failed command leaves none behind.
"""

from __future__ import annotations

import contextlib
import enum
import json
import math
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from hyperdef import __version__
from hyperdef.engagement.homing import G0_M_S2, GUIDANCE_LAWS
from hyperdef.errors import HyperdefError, InputError
from hyperdef.montecarlo import LOCKSTEP_RUNS
from hyperdef.report import atomic_output, check_output_path
from hyperdef.threats import DEFAULT_DT_S, MANEUVERS, THREAT_KINDS
from hyperdef.threats import fly as fly_threat
from hyperdef.threats.trajectory import summarize

#: exit status of every input error (DESIGN.md)
EXIT_INPUT_ERROR = 2

# choices built from the library's own lists, so --help and usage errors name what is allowed
Kind = enum.Enum("Kind", {name: name for name in THREAT_KINDS}, type=str)
Maneuver = enum.Enum("Maneuver", {name: name for name in MANEUVERS}, type=str)

app = typer.Typer(
    name="hyperdef",
    help="hyperdef: an open testbed for counter-hypersonic defence research.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain click usage errors: short, stable, one "Error:" line
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hyperdef {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """hyperdef: an open testbed for counter-hypersonic defence research."""


def parse_lat_lon(text: str, option: str) -> tuple[float, float]:
    """Parse ``"LAT,LON"`` in degrees (spaces allowed) into two floats.

    Raises
    ------
    hyperdef.errors.InputError
        Naming ``option`` when the text is not two finite numbers, the latitude is
        outside [-90, 90] or the longitude outside [-360, 360].
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"{option}: expected LAT,LON in degrees, got {text!r}") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise InputError(f"{option}: expected finite LAT,LON in degrees, got {text!r}")
    if not -90.0 <= lat <= 90.0:
        raise InputError(f"{option}: latitude {lat:g} deg outside [-90, 90]")
    if not -360.0 <= lon <= 360.0:
        raise InputError(f"{option}: longitude {lon:g} deg outside [-360, 360]")
    return lat, lon


def _checked(work, *args):
    """Call ``work(*args)``; an input error becomes one ``error:`` line and exit code 2."""
    try:
        return work(*args)
    except HyperdefError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR) from None


def _positive(value: float | None, option: str, unit: str) -> None:
    if value is not None and not (math.isfinite(value) and value > 0.0):
        raise InputError(f"{option}: {value:g} {unit} must be a positive number")


@contextlib.contextmanager
def _status(message: str):
    """A rich spinner on stderr, only when stderr is a terminal (stdout stays clean)."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


@app.command()
def fly(
    kind: Annotated[Kind, typer.Argument(
        metavar="KIND", help="Threat kind: hgv, hcm or ballistic.", show_default=False)],
    launch: Annotated[str, typer.Option(
        "--from", metavar="LAT,LON", show_default=False,
        help="Launch point, geodetic latitude and longitude in degrees, e.g. 22.0,-159.8.")],
    aim: Annotated[str, typer.Option(
        "--to", metavar="LAT,LON", show_default=False,
        help="Aim point, geodetic latitude and longitude in degrees, e.g. 9.4,167.5.")],
    maneuver: Annotated[Maneuver, typer.Option(
        "--maneuver", help="Glide manoeuvre (hgv only; others fly 'none').")] = Maneuver.none,
    seed: Annotated[int | None, typer.Option(
        "--seed", metavar="N", show_default=False,
        help="Seed of the booster dispersion; without it the flight is nominal.")] = None,
    launch_time_s: Annotated[float, typer.Option(
        "--launch-time", metavar="S", help="Launch time, s from the scenario epoch.")] = 0.0,
    mass_kg: Annotated[float | None, typer.Option(
        "--mass", metavar="KG", show_default=False,
        help="Payload mass override (glider, cruiser dry mass or re-entry vehicle), kg.")] = None,
    dt_s: Annotated[float | None, typer.Option(
        "--dt", metavar="S", show_default=False,
        help="Integration step, s (default: "
             + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_DT_S.items()) + ").")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="FILE.parquet", show_default=False,
        help="Write the truth table (DESIGN.md truth.parquet columns) here.")] = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", metavar="FILE.png", show_default=False,
        help="Write the altitude profile and ground track here.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object on stdout and nothing else.")] = False,
) -> None:
    """Fly one threat from launch to impact and summarise it."""
    summary = _checked(_fly, kind.value, launch, aim, maneuver.value, seed, launch_time_s, mass_kg,
                       dt_s, out, plot)
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        _print_summary(summary)


def _fly(kind: str, launch: str, aim: str, maneuver: str, seed: int | None,
         launch_time_s: float, mass_kg: float | None, dt_s: float | None,
         out: Path | None, plot: Path | None) -> dict[str, Any]:
    """Validate everything, fly, write the outputs; return the JSON object."""
    launch_deg = parse_lat_lon(launch, "--from")
    aim_deg = parse_lat_lon(aim, "--to")
    if not math.isfinite(launch_time_s):
        raise InputError(f"--launch-time: {launch_time_s:g} s must be a finite number")
    _positive(mass_kg, "--mass", "kg")
    _positive(dt_s, "--dt", "s")
    if seed is not None and seed < 0:
        raise InputError(f"--seed: {seed} must be a non-negative integer")
    if out is not None:
        check_output_path(out, (".parquet",), "--out")
    if plot is not None:
        check_output_path(plot, (".png",), "--plot")

    rng = None if seed is None else np.random.default_rng(seed)
    with _status(f"flying {kind} ..."):
        trajectory = fly_threat(kind, np.radians(launch_deg), np.radians(aim_deg),
                                maneuver=maneuver, t_launch_s=launch_time_s, rng=rng,
                                mass_kg=mass_kg, dt_s=dt_s)
    outputs: dict[str, str] = {}
    if plot is not None:
        from hyperdef.report.plots import plot_trajectory

        with _status("plotting ..."):
            plot_trajectory(trajectory, plot)
        outputs["plot"] = os.path.abspath(plot)
    if out is not None:
        import pyarrow.parquet as pq

        with atomic_output(out) as tmp:
            pq.write_table(trajectory.to_table(), tmp)
        outputs["out"] = os.path.abspath(out)

    summary = summarize(trajectory, 0)
    summary.update({
        "maneuver": maneuver,
        "seed": seed,
        "launch": list(launch_deg),
        "aim": list(aim_deg),
        "launch_time_s": launch_time_s,
        "outputs": outputs,
    })
    return summary


def _fmt(value: Any, spec: str, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:{spec}}{unit}"


def _print_summary(s: dict[str, Any]) -> None:
    """A small human-readable table on stdout (the --json object, abridged)."""
    from rich.console import Console
    from rich.table import Table

    g = s.get
    table = Table(title=f"{g('kind')} ({g('maneuver')}): {g('status')}", show_header=False,
                  title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    glide = ("-" if g("min_glide_alt_km") is None
             else f"{g('min_glide_alt_km'):.1f} - {g('max_glide_alt_km'):.1f} km")
    rows = [
        ("launch", f"{s['launch'][0]:.4f}, {s['launch'][1]:.4f} deg"),
        ("aim", f"{s['aim'][0]:.4f}, {s['aim'][1]:.4f} deg"),
        ("impact", f"{_fmt(g('impact_lat'), '.4f')}, {_fmt(g('impact_lon'), '.4f')} deg"),
        ("miss to aim", _fmt(g("miss_to_aim_km"), ".3f", " km")),
        ("range", _fmt(g("range_km"), ",.1f", " km")),
        ("flight time", _fmt(g("flight_time_s"), ",.1f", " s")),
        ("max Mach", _fmt(g("max_mach"), ".2f")),
        ("time above Mach 5", _fmt(g("fraction_above_mach5"), ".0%", " (after burnout)")),
        ("max altitude", _fmt(g("max_alt_km"), ".1f", " km")),
        ("glide/cruise altitude", glide),
        ("seed", "nominal" if s["seed"] is None else str(s["seed"])),
    ]
    rows += [(f"wrote {name}", path) for name, path in s["outputs"].items()]
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)


def parse_sweep(text: str, option: str) -> np.ndarray:
    """Parse ``"A:B:STEP"`` (s) into flight times A, A + STEP, ... up to B inclusive.

    Raises
    ------
    hyperdef.errors.InputError
        Naming ``option`` unless A, B and STEP are finite with 0 < A <= B and STEP > 0,
        and the sweep has at most 100,000 points.
    """
    try:
        start, stop, step = (float(p) for p in text.split(":"))
    except ValueError:
        raise InputError(f"{option}: expected A:B:STEP in s, got {text!r}") from None
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise InputError(f"{option}: expected finite A:B:STEP in s, got {text!r}")
    if not (0.0 < start <= stop and step > 0.0):
        raise InputError(f"{option}: {text!r} needs 0 < A <= B and STEP > 0 (s)")
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > 100_000:
        raise InputError(f"{option}: {text!r} has {count} points, at most 100000 allowed")
    return start + step * np.arange(count)


@app.command()
def homing(
    # a plain string checked by the library, so a bad law is one "error:" line like the rest
    law: Annotated[str, typer.Option(
        "--law", metavar="{" + ",".join(GUIDANCE_LAWS) + "}",
        help="Guidance law: " + ", ".join(GUIDANCE_LAWS) + ".")] = "pn",
    nav_ratio: Annotated[float, typer.Option(
        "--nav-ratio", metavar="N",
        help="Effective navigation ratio N' (> 0; zem ignores it).")] = 4.0,
    time_constant_s: Annotated[float, typer.Option(
        "--time-constant", metavar="T", help="Flight control time constant, s (>= 0).")] = 1.0,
    flight_time_s: Annotated[float, typer.Option(
        "--flight-time", metavar="TF", help="Homing flight time, s (> 0).")] = 10.0,
    closing_speed_m_s: Annotated[float, typer.Option(
        "--closing-speed", metavar="VC", help="Closing speed, m/s (> 0).")] = 1219.2,
    missile_speed_m_s: Annotated[float, typer.Option(
        "--missile-speed", metavar="VM", help="Missile speed, m/s (> 0).")] = 914.4,
    target_accel_g: Annotated[float, typer.Option(
        "--target-accel-g", metavar="NT", help="Step target manoeuvre, g (9.80665 m/s^2).")] = 3.0,
    heading_error_deg: Annotated[float, typer.Option(
        "--heading-error-deg", metavar="HE", help="Heading error, deg.")] = 0.0,
    sweep: Annotated[str | None, typer.Option(
        "--sweep-flight-time", metavar="A:B:STEP", show_default=False,
        help="Miss for flight times A, A+STEP, ... B (s) instead of one --flight-time.")] = None,
    adjoint: Annotated[bool, typer.Option(
        "--adjoint", help="Use one adjoint run instead of forward runs.")] = False,
    plot: Annotated[Path | None, typer.Option(
        "--plot", metavar="FILE.png", show_default=False,
        help="Write miss vs flight time (sweep) or the acceleration history here.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object on stdout and nothing else.")] = False,
) -> None:
    """Miss distance of the linear homing loop (Zarchan): one flight time or a sweep."""
    result = _checked(_homing, law, nav_ratio, time_constant_s, flight_time_s, closing_speed_m_s,
                      missile_speed_m_s, target_accel_g, heading_error_deg, sweep, adjoint, plot)
    if as_json:
        typer.echo(json.dumps(result))
    elif "sweep" in result:
        for row in result["sweep"]:
            typer.echo(f"{row['flight_time_s']:10.4f} s  {row['miss_m']:.6g} m")
    else:
        typer.echo(f"miss {result['miss_m']:.6g} m")
    if not as_json and "plot" in result.get("outputs", {}):
        typer.echo(f"wrote {result['outputs']['plot']}")


def _homing(law: str, nav_ratio: float, time_constant_s: float, flight_time_s: float,
            closing_speed_m_s: float, missile_speed_m_s: float, target_accel_g: float,
            heading_error_deg: float, sweep: str | None, adjoint: bool,
            plot: Path | None) -> dict[str, Any]:
    """Validate, compute, plot; return the JSON object (misses are absolute, in m)."""
    from hyperdef.engagement.homing import (
        HomingLoop,
        acceleration_history,
        miss_adjoint,
        miss_forward,
    )

    flight_times = (parse_sweep(sweep, "--sweep-flight-time") if sweep is not None
                    else np.array([flight_time_s]))
    if sweep is None and not (math.isfinite(flight_time_s) and flight_time_s > 0.0):
        raise InputError(f"--flight-time: {flight_time_s:g} s must be a finite number > 0")
    names = {"law": "--law", "nav_ratio": "--nav-ratio", "time_constant_s": "--time-constant",
             "closing_speed_m_s": "--closing-speed", "missile_speed_m_s": "--missile-speed"}
    loop = HomingLoop(law=law, nav_ratio=nav_ratio, time_constant_s=time_constant_s,
                      closing_speed_m_s=closing_speed_m_s, missile_speed_m_s=missile_speed_m_s,
                      target_accel_m_s2=target_accel_g * G0_M_S2,
                      heading_error_rad=math.radians(heading_error_deg))
    if plot is not None:
        check_output_path(plot, (".png",), "--plot")
    try:
        miss = (miss_adjoint if adjoint else miss_forward)(loop, flight_times)
    except InputError as exc:  # name the CLI option, not the Python field
        message = str(exc)
        for field, option in names.items():
            message = message.replace(f"{field}:", f"{option}:")
        message = message.replace("heading_error_rad:", "--heading-error-deg (in rad):")
        message = message.replace("target_accel_m_s2:", "--target-accel-g (in m/s^2):")
        raise InputError(message) from None

    result: dict[str, Any] = {
        "law": law, "nav_ratio": nav_ratio, "time_constant_s": time_constant_s,
        "closing_speed_m_s": closing_speed_m_s, "missile_speed_m_s": missile_speed_m_s,
        "target_accel_g": target_accel_g, "heading_error_deg": heading_error_deg,
        "method": "adjoint" if adjoint else "forward",
    }
    if sweep is not None:
        result["sweep"] = [{"flight_time_s": float(t), "miss_m": float(abs(m))}
                           for t, m in zip(flight_times, miss, strict=True)]
    else:
        result["flight_time_s"] = flight_time_s
        result["miss_m"] = float(abs(miss[0]))
    outputs: dict[str, str] = {}
    if plot is not None:
        from hyperdef.report.homing_plots import plot_homing

        gain = "N'(t_go/T)" if law == "zem" else f"N' = {nav_ratio:g}"
        title = f"{law}, {gain}, T = {time_constant_s:g} s"
        if sweep is not None:
            plot_homing(plot, flight_times_s=flight_times, miss_m=miss, title=title)
        else:
            plot_homing(plot, history=acceleration_history(loop, flight_time_s),
                        title=f"{title}, t_F = {flight_time_s:g} s")
        outputs["plot"] = os.path.abspath(plot)
    result["outputs"] = outputs
    return result


@app.command()
def coverage(
    sensors_file: Annotated[Path, typer.Argument(
        metavar="SENSORS.yaml", help="Sensors file (see scenarios/sensors_example.yaml).",
        show_default=False)],
    # a plain string checked here, so a bad kind is one "error:" line like the rest
    threat: Annotated[str, typer.Option(
        "--threat", metavar="{" + ",".join(THREAT_KINDS) + "}", show_default=False,
        help="Threat kind: " + ", ".join(THREAT_KINDS) + ".")],
    launch: Annotated[str, typer.Option(
        "--from", metavar="LAT,LON", show_default=False,
        help="Launch point, geodetic latitude and longitude in degrees.")],
    aim: Annotated[str, typer.Option(
        "--to", metavar="LAT,LON", show_default=False,
        help="Aim point, geodetic latitude and longitude in degrees.")],
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", help="Seed of the sensors' random draws.")] = 0,
    plot: Annotated[Path | None, typer.Option(
        "--plot", metavar="FILE.png", show_default=False,
        help="Write the coverage timeline (one row per sensor) here.")] = None,
    detections_out: Annotated[Path | None, typer.Option(
        "--detections", metavar="FILE.parquet", show_default=False,
        help="Write every sensor's reports (the Detections table) here.")] = None,
    truth_out: Annotated[Path | None, typer.Option(
        "--truth", metavar="FILE.parquet", show_default=False,
        help="Write the threat's truth table here.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object on stdout and nothing else.")] = False,
) -> None:
    """Fly one nominal threat past the sensors: first detection, coverage, warning time."""
    result = _checked(_coverage, sensors_file, threat, launch, aim, seed, plot, detections_out,
                      truth_out)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        _print_coverage(result)


def _coverage(sensors_file: Path, threat: str, launch: str, aim: str, seed: int,
              plot: Path | None, detections_out: Path | None = None,
              truth_out: Path | None = None) -> dict[str, Any]:
    """Validate, load the sensors, fly, report and plot; return the JSON object."""
    from hyperdef.sensors.config import load_sensors
    from hyperdef.sensors.coverage import coverage_report

    if threat not in THREAT_KINDS:
        raise InputError(f"--threat: unknown kind {threat!r}; allowed: "
                         + ", ".join(THREAT_KINDS))
    launch_deg = parse_lat_lon(launch, "--from")
    aim_deg = parse_lat_lon(aim, "--to")
    if seed < 0:
        raise InputError(f"--seed: {seed} must be a non-negative integer")
    if plot is not None:
        check_output_path(plot, (".png",), "--plot")
    for path, option in ((detections_out, "--detections"), (truth_out, "--truth")):
        if path is not None:
            check_output_path(path, (".parquet",), option)
    sensors = load_sensors(sensors_file)
    with _status(f"flying {threat} ..."):
        trajectory = fly_threat(threat, np.radians(launch_deg), np.radians(aim_deg))
    reports: list = []
    with _status("observing ..."):
        rows = coverage_report(sensors, trajectory, np.random.default_rng(seed),
                               reports=reports)
    summary = summarize(trajectory, 0)
    summary.update({"launch": list(launch_deg), "aim": list(aim_deg)})
    outputs: dict[str, str] = {}
    if plot is not None:
        from hyperdef.report.coverage_plots import plot_coverage

        with _status("plotting ..."):
            plot_coverage(plot, rows, summary["flight_time_s"],
                          title=f"{threat}: {launch_deg[0]:g},{launch_deg[1]:g} -> "
                                f"{aim_deg[0]:g},{aim_deg[1]:g} (seed {seed})")
        outputs["plot"] = os.path.abspath(plot)
    if detections_out is not None:
        from hyperdef.sensors.detections import concat_detections, write_detections

        write_detections(concat_detections(reports), detections_out)
        outputs["detections"] = os.path.abspath(detections_out)
    if truth_out is not None:
        import pyarrow.parquet as pq

        with atomic_output(truth_out) as tmp:
            pq.write_table(trajectory.to_table(), tmp)
        outputs["truth"] = os.path.abspath(truth_out)
    return {"threat": summary, "seed": seed, "sensors": rows, "outputs": outputs}


def _print_coverage(result: dict[str, Any]) -> None:
    """One row per sensor on stdout (the --json object, abridged)."""
    from rich.console import Console
    from rich.table import Table

    t = result["threat"]
    table = Table(title=f"{t['kind']}: {t['range_km']:,.0f} km, {t['flight_time_s']:,.0f} s "
                        f"to impact (times from launch, seed {result['seed']})",
                  title_justify="left")
    for name in ("sensor", "kind", "node", "first det. s", "range km", "alt km",
                 "coverage s", "warning s"):
        table.add_column(name, justify="left" if name in ("sensor", "kind", "node")
                         else "right")
    for row in result["sensors"]:
        table.add_row(row["sensor_id"], row["kind"], row["node"],
                      _fmt(row["first_detection_s"], ",.0f"),
                      _fmt(row["first_detection_range_km"], ",.0f"),
                      _fmt(row["first_detection_alt_km"], ",.1f"),
                      _fmt(row["coverage_s"], ",.0f"), _fmt(row["warning_time_s"], ",.0f"))
    console = Console()
    if not console.is_terminal:  # a pipe or a file: room for every sensor id
        console.width = max(console.width, 120)
    console.print(table)
    for name, path in result["outputs"].items():
        console.print(f"wrote {name} {path}")


@app.command()
def engage(
    interceptor: Annotated[str, typer.Option(
        "--interceptor", metavar="{gpi,sm6}", show_default=False,
        help="Interceptor class: gpi (glide-phase, hit-to-kill) or sm6 (terminal, aero).")],
    threat: Annotated[str, typer.Option(
        "--threat", metavar="{" + ",".join(THREAT_KINDS) + "}", show_default=False,
        help="Threat kind.")],
    launch: Annotated[str, typer.Option(
        "--from", metavar="LAT,LON", show_default=False, help="Threat launch point, deg.")],
    aim: Annotated[str, typer.Option(
        "--to", metavar="LAT,LON", show_default=False, help="Threat aim point, deg.")],
    site: Annotated[str, typer.Option(
        "--site", metavar="LAT,LON", show_default=False,
        help="Interceptor launch site, deg.")],
    maneuver: Annotated[Maneuver, typer.Option(
        "--maneuver", help="Glide manoeuvre (hgv only).")] = Maneuver.none,
    ready_s: Annotated[float, typer.Option(
        "--ready", metavar="S",
        help="Earliest interceptor launch, s after the threat's launch.")] = 0.0,
    law: Annotated[str, typer.Option(
        "--law", metavar="{" + ",".join(GUIDANCE_LAWS) + "}", help="Terminal law.")] = "zem",
    nav_ratio: Annotated[float, typer.Option(
        "--nav-ratio", metavar="N", help="Navigation ratio of pn and apn.")] = 4.0,
    draws: Annotated[int, typer.Option(
        "--draws", metavar="N", help="Monte Carlo draws.")] = 100,
    launch_spread_s: Annotated[float, typer.Option(
        "--launch-spread", metavar="S",
        help="Each draw's threat launches up to S s late (uniform).")] = 0.0,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Root seed.")] = 0,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="FILE.parquet", show_default=False,
        help="Write one record per draw here.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object on stdout and nothing else.")] = False,
) -> None:
    """Monte Carlo engagements of one interceptor class against one threat."""
    result = _checked(_engage, interceptor, threat, launch, aim, site, maneuver.value, ready_s, law,
                      nav_ratio, draws, launch_spread_s, seed, out)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        _print_engagement(result)


def _engage(interceptor: str, threat: str, launch: str, aim: str, site: str, maneuver: str,
            ready_s: float, law: str, nav_ratio: float, draws: int, launch_spread_s: float,
            seed: int, out: Path | None) -> dict[str, Any]:
    """Validate, fly the threats, run the engagements; return the JSON object."""
    from hyperdef.engagement.interceptor import INTERCEPTORS
    from hyperdef.engagement.simulate import EngagementOptions, check_options, engage

    if interceptor not in INTERCEPTORS:
        raise InputError(f"--interceptor: unknown class {interceptor!r}; allowed: "
                         + ", ".join(INTERCEPTORS))
    if threat not in THREAT_KINDS:
        raise InputError(f"--threat: unknown kind {threat!r}; allowed: "
                         + ", ".join(THREAT_KINDS))
    launch_deg = parse_lat_lon(launch, "--from")
    aim_deg = parse_lat_lon(aim, "--to")
    site_deg = parse_lat_lon(site, "--site")
    if not (math.isfinite(ready_s) and ready_s >= 0.0):
        raise InputError(f"--ready: {ready_s:g} s must be a number >= 0")
    if not (math.isfinite(launch_spread_s) and launch_spread_s >= 0.0):
        raise InputError(f"--launch-spread: {launch_spread_s:g} s must be a number >= 0")
    if not 1 <= draws <= 100_000:
        raise InputError(f"--draws: {draws} must be between 1 and 100000")
    if seed < 0:
        raise InputError(f"--seed: {seed} must be a non-negative integer")
    options = check_options(EngagementOptions(law=law, nav_ratio=nav_ratio))
    if out is not None:
        check_output_path(out, (".parquet",), "--out")
    threat_rng, engage_rng = (np.random.default_rng(s)
                              for s in np.random.SeedSequence(seed).spawn(2))
    t_launch = threat_rng.uniform(0.0, launch_spread_s, draws)
    with _status(f"flying {draws} {threat} ..."):
        trajectory = fly_threat(threat, np.radians(launch_deg), np.radians(aim_deg),
                                maneuver=maneuver, t_launch_s=t_launch, rng=threat_rng)
    site_lla = np.radians([site_deg[0], site_deg[1], 0.0])
    with _status(f"engaging with {draws} interceptors ..."):
        result = engage(INTERCEPTORS[interceptor], trajectory, target_index=np.arange(draws),
                        site_lla=site_lla, t_launch_s=ready_s, options=options,
                        rng=engage_rng)
    outputs: dict[str, str] = {}
    if out is not None:
        import pyarrow.parquet as pq

        with atomic_output(out) as tmp:
            pq.write_table(result.to_table(), tmp)
        outputs["out"] = os.path.abspath(out)
    pk, low, high = result.kill_probability()
    flown = np.isfinite(result.miss_m)

    def stat(values: np.ndarray, q: float) -> float | None:
        values = values[np.isfinite(values)]
        return float(np.percentile(values, q)) if values.size else None

    return {
        "interceptor": INTERCEPTORS[interceptor].name,
        "threat": summarize(trajectory, 0),
        "site": list(site_deg),
        "law": law,
        "nav_ratio": nav_ratio,
        "draws": draws,
        "seed": seed,
        "kill_probability": pk,
        "kill_probability_95": [low, high],
        "statuses": result.counts(),
        "miss_m_median": stat(result.miss_m[flown], 50),
        "miss_m_p90": stat(result.miss_m[flown], 90),
        "time_of_flight_s_median": stat(result.t_intercept_s - result.t_launch_s, 50),
        "outputs": outputs,
    }


def _print_engagement(r: dict[str, Any]) -> None:
    typer.echo(f"{r['interceptor']} against {r['threat']['kind']} "
               f"({r['threat']['range_km']:,.0f} km), {r['draws']} draws, law {r['law']}")
    typer.echo(f"kill probability {r['kill_probability']:.3f} "
               f"(95% {r['kill_probability_95'][0]:.3f}-{r['kill_probability_95'][1]:.3f})")
    typer.echo("statuses: " + ", ".join(f"{k} {v}" for k, v in r["statuses"].items() if v))
    typer.echo(f"miss median {_fmt(r['miss_m_median'], ',.2f', ' m')}, "
               f"90th percentile {_fmt(r['miss_m_p90'], ',.2f', ' m')}; "
               f"time of flight median {_fmt(r['time_of_flight_s_median'], ',.0f', ' s')}")
    for name, path in r["outputs"].items():
        typer.echo(f"wrote {name} {path}")


@app.command()
def flyout(
    interceptor: Annotated[str, typer.Option(
        "--interceptor", metavar="{gpi,sm6}", show_default=False,
        help="Interceptor class.")],
    plot: Annotated[Path | None, typer.Option(
        "--plot", metavar="FILE.png", show_default=False,
        help="Draw the fan (time of flight over range and altitude) here.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object on stdout and nothing else.")] = False,
) -> None:
    """The fly-out fan of an interceptor class: reach, ceiling and times of flight."""
    result = _checked(_flyout, interceptor, plot)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"{result['interceptor']}: burnout {result['burnout_time_s']:.0f} s, "
                   f"max range {result['max_range_km']:,.0f} km, "
                   f"max altitude {result['max_alt_km']:,.0f} km")
        for row in result["time_of_flight_s"]:
            typer.echo(f"  {row['range_km']:>6,.0f} km at {row['alt_km']:>4.0f} km: "
                       f"{_fmt(row['time_s'], ',.0f', ' s')}")
        for name, path in result["outputs"].items():
            typer.echo(f"wrote {name} {path}")


def _flyout(interceptor: str, plot: Path | None) -> dict[str, Any]:
    from hyperdef.engagement.flyout import flyout_table
    from hyperdef.engagement.interceptor import INTERCEPTORS

    if interceptor not in INTERCEPTORS:
        raise InputError(f"--interceptor: unknown class {interceptor!r}; allowed: "
                         + ", ".join(INTERCEPTORS))
    if plot is not None:
        check_output_path(plot, (".png",), "--plot")
    ic = INTERCEPTORS[interceptor]
    with _status(f"flying the {ic.name} fan ..."):
        table = flyout_table(ic)
    probes = [(r, h) for r in (50.0, 100.0, 200.0, 400.0, 800.0) for h in (20.0, 40.0)]
    times = table.time_to(np.array([p[0] for p in probes]) * 1e3,
                          np.array([p[1] for p in probes]) * 1e3)
    outputs: dict[str, str] = {}
    if plot is not None:
        from hyperdef.report.engagement_plots import plot_flyout

        plot_flyout(table, plot)
        outputs["plot"] = os.path.abspath(plot)
    return {
        "interceptor": ic.name,
        "burnout_time_s": ic.burnout_time_s,
        "launch_mass_kg": ic.launch_mass_kg,
        "max_range_km": table.max_range_m / 1e3,
        "max_alt_km": table.max_alt_m / 1e3,
        "intercept_alt_km": [ic.intercept_alt_min_m / 1e3, ic.intercept_alt_max_m / 1e3],
        "time_of_flight_s": [
            {"range_km": r, "alt_km": h, "time_s": None if not np.isfinite(t) else float(t)}
            for (r, h), t in zip(probes, times, strict=True)
        ],
        "outputs": outputs,
    }


@app.command()
def track(
    detections_file: Annotated[Path, typer.Argument(
        metavar="DETECTIONS.parquet", show_default=False,
        help="Reports in the Detections table format (DESIGN.md).")],
    out: Annotated[Path, typer.Option(
        "--out", metavar="TRACKS.parquet", show_default=False,
        help="Write the Tracks table here.")],
    config_file: Annotated[Path | None, typer.Option(
        "--config", metavar="TRACKER.yaml", show_default=False,
        help="Tracker settings (TrackerConfig fields); the flags below override it.")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", metavar="{cv,ca,singer,ct,ballistic,glide,imm}", show_default=False,
        help="Motion model.")] = None,
    association: Annotated[str | None, typer.Option(
        "--association", metavar="{gnn,jpda}", show_default=False,
        help="Data association.")] = None,
    truth_file: Annotated[Path | None, typer.Option(
        "--truth", metavar="TRUTH.parquet", show_default=False,
        help="Truth table for OSPA and RMSE (default: truth.parquet beside the "
             "detections, if there).")] = None,
    node: Annotated[str | None, typer.Option(
        "--node", metavar="ISO3", show_default=False,
        help="Nation running the tracker (needed when the reports come from several).")
    ] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object on stdout and nothing else.")] = False,
) -> None:
    """Track the targets of a Detections file and write the Tracks table."""
    result = _checked(_track, detections_file, out, config_file, model, association, truth_file,
                      node)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"{result['tracks_confirmed']} confirmed tracks from {result['reports']} "
                   f"reports in {result['scans']} scans ({result['wall_s']:.2f} s)")
        if result["ospa_mean"] is not None:
            typer.echo(f"OSPA mean {result['ospa_mean']:,.1f} m, position RMSE "
                       f"{_fmt(result['rmse_pos_m'], ',.1f', ' m')}")
        skipped = {k: v for k, v in result["reports_skipped"].items() if v}
        if skipped:
            typer.echo("skipped reports: " + ", ".join(f"{k} {v}" for k, v in skipped.items()))
        typer.echo(f"wrote tracks {result['outputs']['out']}")


def _tracker_config(config_file: Path | None, model: str | None, association: str | None):
    """TrackerConfig from a YAML file and the flags; every bad key or value named."""

    import yaml

    from hyperdef.tracking.tracker import TrackerConfig

    settings: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = yaml.safe_load(Path(config_file).read_text())
        except FileNotFoundError:
            raise InputError(f"--config: {str(config_file)!r} does not exist") from None
        except (OSError, yaml.YAMLError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"--config: {str(config_file)!r} is not valid YAML: {first}"
                             ) from None
        if loaded is not None and not isinstance(loaded, dict):
            raise InputError(f"--config: {str(config_file)!r} must hold a mapping of settings")
        settings = dict(loaded or {})
    return TrackerConfig.from_settings(settings, "--config", model=model,
                                       association=association)


def _track(detections_file: Path, out: Path, config_file: Path | None, model: str | None,
           association: str | None, truth_file: Path | None,
           node: str | None = None) -> dict[str, Any]:
    import time

    from hyperdef.sensors.detections import read_detections
    from hyperdef.tracking.tracker import run_tracker, write_tracks

    check_output_path(out, (".parquet",), "--out")
    config = _tracker_config(config_file, model, association)
    if not Path(detections_file).is_file():
        raise InputError(f"DETECTIONS: {str(detections_file)!r} does not exist")
    try:
        table = read_detections(detections_file)
    except (OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"DETECTIONS: {str(detections_file)!r} is not a Parquet "
                         f"Detections table ({type(exc).__name__})") from None
    start = time.perf_counter()
    with _status("tracking ..."):
        result = run_tracker(table, config, node=node)
    wall = time.perf_counter() - start
    write_tracks(result.table, out)
    counts = result.counts
    summary: dict[str, Any] = {
        "tracks_confirmed": int(counts["tracks_confirmed"]),
        "scans": int(counts["scans"]),
        "reports": int(counts["reports"]),
        "reports_skipped": {k: int(v) for k, v in counts["reports_skipped"].items()},
        "wall_s": round(wall, 4),
        "model": config.model,
        "association": config.association,
        "ospa_mean": None,
        "rmse_pos_m": None,
        "outputs": {"out": os.path.abspath(out)},
    }
    truth_ids = table.column("truth_id").to_numpy()
    if truth_file is None:
        sibling = Path(detections_file).with_name("truth.parquet")
        truth_file = sibling if sibling.is_file() else None
    if truth_file is not None and np.any(truth_ids >= 0):
        import pyarrow.parquet as pq

        from hyperdef.threats.trajectory import trajectory_from_table
        from hyperdef.tracking.metrics import summary as track_summary

        try:
            truth_table = pq.read_table(truth_file)
        except (OSError, ValueError):
            raise InputError(f"--truth: {str(truth_file)!r} is not a Parquet truth table"
                             ) from None
        metrics = track_summary(result.table, trajectory_from_table(truth_table))
        summary["ospa_mean"] = metrics["ospa_mean_m"]
        summary["rmse_pos_m"] = metrics["rmse_pos_m"]
        summary["metrics"] = metrics
    return summary


@app.command()
def run(
    scenario_file: Annotated[Path, typer.Argument(
        metavar="SCENARIO.yaml", show_default=False,
        help="Scenario file (see scenarios/single_hgv.yaml).")],
    out: Annotated[Path, typer.Option(
        "--out", metavar="DIR", show_default=False,
        help="Folder for truth, detections, tracks, engagements and summary.json.")],
    seed: Annotated[int | None, typer.Option(
        "--seed", metavar="N", show_default=False,
        help="Seed overriding the scenario's.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the summary as one JSON object.")] = False,
) -> None:
    """Run a scenario through the whole kill chain and write the run's files."""
    summary = _checked(_run, scenario_file, out, seed)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(f"{summary['scenario']} (seed {summary['seed']}): {len(summary['threats'])} "
               f"threats, {summary['shots']} shots, {summary['kills']} kills, "
               f"{summary['leakers']} leakers")
    for threat in summary["threats"]:
        first = threat["first_detection"]
        seen = (f"first seen {first['t_s']:.0f} s after launch at {first['range_km']:,.0f} km "
                f"by {first['sensor_id']}" if first else "never detected")
        typer.echo(f"  {threat['object_id']} {threat['kind']}: {seen}; "
                   f"{'killed' if threat['killed'] else 'not killed'}")
    for name, path in summary["outputs"].items():
        typer.echo(f"wrote {name} {path}")


def _run(scenario_file: Path, out: Path, seed: int | None) -> dict[str, Any]:
    from hyperdef.scenario import load_scenario
    from hyperdef.simulation import run_scenario, write_run

    if seed is not None and seed < 0:
        raise InputError(f"--seed: {seed} must be a non-negative integer")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {str(out)!r} exists and is not a folder")
    if not out.parent.is_dir():
        raise InputError(f"--out: folder {str(out.parent)!r} does not exist")
    scenario = load_scenario(scenario_file)
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status("running ...") as status:
            result = run_scenario(scenario, seed=seed,
                                  progress=lambda stage: status.update(f"{stage} ..."))
    else:
        result = run_scenario(scenario, seed=seed)
    paths = write_run(result, out, scenario=scenario)
    return {**result.summary, "outputs": {k: os.path.abspath(v) for k, v in paths.items()}}


#: the scenarios shipped with the project (next to src/ in a checkout)
SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"


@app.command()
def demo(
    out: Annotated[Path, typer.Option(
        "--out", metavar="DIR", help="Folder for the run's files and report.")] = Path(
        "hyperdef-demo"),
    seed: Annotated[int | None, typer.Option(
        "--seed", metavar="N", show_default=False, help="Seed overriding the scenario's.")
    ] = None,
) -> None:
    """Run the regional raid example (scenarios/regional_raid.yaml) and show the outcome."""
    scenario_file = SCENARIOS_DIR / "regional_raid.yaml"
    try:
        if not scenario_file.is_file():
            raise InputError(f"demo: {str(scenario_file)!r} not found (run from a checkout "
                             "of hyperdef installed with pip install -e .)")
        summary = _run(scenario_file, out, seed)
    except HyperdefError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR) from None
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{summary['scenario']}: {summary['shots']} shots, "
                        f"{summary['kills']} kills, {summary['leakers']} leakers "
                        f"(seed {summary['seed']})", title_justify="left")
    for name in ("threat", "kind", "first seen s", "by", "firm track s", "killed"):
        table.add_column(name)
    for threat in summary["threats"]:
        first = threat["first_detection"] or {}
        firm = [v for v in threat["time_to_firm_track_s"].values() if v is not None]
        table.add_row(str(threat["object_id"]), threat["kind"],
                      _fmt(first.get("t_s"), ",.0f"), first.get("sensor_id", "-"),
                      _fmt(min(firm) if firm else None, ",.0f"),
                      "yes" if threat["killed"] else "no")
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 100)
    console.print(table)
    console.print(f"report: {summary['outputs'].get('report', '-')}")


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(
        metavar="RUN_DIR...", show_default=False,
        help="Folders written by hyperdef run (e.g. the joint and the national raid).")],
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the rows as one JSON array.")] = False,
) -> None:
    """Key numbers of runs side by side: warning time, track completeness, kills."""
    from hyperdef.report.compare import compare_runs

    rows = _checked(compare_runs, runs)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="runs side by side", title_justify="left")
    for name in ("run", "picture", "firm tracks", "mean warning s", "tracked % of flight",
                 "RMSE m", "common RMSE m", "shots", "kills", "leakers"):
        table.add_column(name, justify="left" if name in ("run", "picture") else "right")
    for r in rows:
        completeness = r["completeness_mean"]
        table.add_row(r["run"], r["picture"], f"{r['firm_tracks']} of {r['threats']}",
                      _fmt(r["warning_mean_s"], ",.0f"),
                      _fmt(None if completeness is None else 100 * completeness, ".0f"),
                      _fmt(r["rmse_pos_m"], ",.0f"), _fmt(r["rmse_common_m"], ",.0f"),
                      str(r["shots"]), str(r["kills"]),
                      str(r["leakers"]))
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 110)
    console.print(table)


@app.command()
def campaign(
    scenario_file: Annotated[Path, typer.Argument(
        metavar="SCENARIO.yaml", show_default=False, help="Scenario file.")],
    runs: Annotated[int, typer.Option("--runs", metavar="N", help="Monte Carlo runs.")],
    out: Annotated[Path, typer.Option(
        "--out", metavar="DIR", show_default=False,
        help="Folder for campaign.parquet, campaign.json and campaign.png.")],
    seed: Annotated[int, typer.Option("--seed", metavar="S", help="Root seed.")] = 0,
    workers: Annotated[int | None, typer.Option(
        "--workers", metavar="K", show_default=False,
        help="Local worker processes (default: all cores).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS", show_default=False,
        help="Dask scheduler (tcp://host:8786), or 'local' for a local Dask cluster.")] = None,
    lockstep: Annotated[int, typer.Option(
        "--lockstep", metavar="K",
        help="Runs flown together in one batch, at most (speed only: the rows are the "
             "same for any K).")] = LOCKSTEP_RUNS,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the aggregates as one JSON object.")] = False,
) -> None:
    """Monte Carlo campaign of a scenario on local processes or a Dask cluster."""
    result = _checked(_campaign, scenario_file, runs, out, seed, workers, scheduler, lockstep)
    if as_json:
        typer.echo(json.dumps(result))
        return
    agg = result["aggregates"]
    negation = agg.get("raid_negation") or {}
    typer.echo(f"{result['scenario']}: {result['runs']} runs on {result['backend']} in "
               f"{result['wall_s']:.1f} s ({result['runs_per_minute']:.1f} runs/min)")
    if negation:
        typer.echo(f"raid negated in {negation['p']:.3f} of runs "
                   f"(95% {negation['low']:.3f}-{negation['high']:.3f})")
    for name, path in result["outputs"].items():
        typer.echo(f"wrote {name} {path}")


def _campaign(scenario_file: Path, runs: int, out: Path, seed: int, workers: int | None,
              scheduler: str | None, lockstep: int) -> dict[str, Any]:
    from hyperdef.montecarlo import run_campaign, write_campaign
    from hyperdef.scenario import load_scenario

    if workers is not None and scheduler is not None:
        raise InputError("--workers and --scheduler: give one or the other")
    if lockstep < 1:
        raise InputError(f"--lockstep: {lockstep} must be >= 1")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {str(out)!r} exists and is not a folder")
    scenario = load_scenario(scenario_file)
    progress = None
    if sys.stderr.isatty():
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("runs", total=runs)
        bar.start()
        progress = lambda done, total: bar.update(task, completed=done)  # noqa: E731
    try:
        result = run_campaign(scenario, runs, seed=seed, workers=workers, scheduler=scheduler,
                              progress=progress, lockstep=lockstep)
    finally:
        if progress is not None:
            bar.stop()
    paths = write_campaign(result, out)
    return {"scenario": result.scenario, "runs": result.runs, "backend": result.backend,
            "workers": result.workers, "seed": result.seed, "wall_s": result.wall_s,
            "runs_per_minute": result.runs_per_minute, "aggregates": result.aggregates,
            "outputs": {k: os.path.abspath(v) for k, v in paths.items()}}


from hyperdef.service.cli import register as _register_isr  # noqa: E402, I001
_register_isr(app)


def main() -> None:
    """Console-script entry point (``hyperdef``)."""
    app()


if __name__ == "__main__":
    main()
