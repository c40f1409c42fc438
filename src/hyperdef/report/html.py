"""The self-contained ``report.html`` of one run (DESIGN.md output contract).

:func:`write_report` draws the run's figures with matplotlib's Agg renderer, embeds each
as a base64 PNG ``data:`` URI next to inline CSS, and writes one HTML file with no
external reference (no script, stylesheet, font or image is fetched), atomically.
Nothing here computes physics: the figures show the tables of the run, the truth
assignment of :func:`hyperdef.tracking.metrics.assign_truth` and the fire control's own
path prediction and launch window. Degrees and kilometres appear here only (DESIGN.md).
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hyperdef.report import atomic_output

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hyperdef.scenario import Scenario
    from hyperdef.simulation import RunResult

__all__ = ["write_report"]

#: output resolution of the embedded figures, dots per inch
DPI = 100

#: colours of the threats, cycled by object index
THREAT_COLORS = (
    "tab:red",
    "tab:blue",
    "tab:green",
    "tab:purple",
    "tab:orange",
    "tab:brown",
    "tab:pink",
    "tab:olive",
    "tab:cyan",
    "tab:gray",
)

#: colours of the tracking nodes, cycled in scenario order
NODE_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")

#: most (time, error) samples drawn per track in the error figure
MAX_POINTS_PER_TRACK = 2_000

#: without the scenario, a reporting sensor above this altitude is taken for the space
#: layer and one above :data:`AIRBORNE_ALT_M` for an aircraft, m
SPACE_ALT_M = 100_000.0
AIRBORNE_ALT_M = 1_000.0

_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;background:#fff;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;
border-bottom:1px solid #ccc;padding-bottom:.2em}
.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f2f2f2}td.l,th.l{text-align:left}
.kpi{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
.kpi div{border:1px solid #ccc;border-radius:4px;padding:.5em 1em;min-width:6em}
.kpi b{display:block;font-size:1.6em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}
.note{color:#666;font-size:.9em}
"""


# ------------------------------------------------------------------------------ helpers


def _new_figure(width_in: float, height_in: float) -> Figure:
    """A figure rendered by Agg, outside pyplot's registry (no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png_bytes(fig: Figure) -> bytes:
    """Render and release a figure; its PNG bytes."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI)
    finally:
        fig.clear()
    return buf.getvalue()


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _fmt(value: Any, digits: int = 1) -> str:
    """Text of a table cell (escaped); NaN and None read as a dash."""
    if value is None:
        return "&ndash;"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            return "&ndash;"
        return f"{float(value):,.{digits}f}"
    return html.escape(str(value))


def _near(lon_deg: np.ndarray, center_deg: float) -> np.ndarray:
    """Longitudes shifted by whole turns to within 180 deg of ``center_deg``."""
    return center_deg + (np.asarray(lon_deg, dtype=float) - center_deg + 180.0) % 360.0 - 180.0


def _threat_color(i: int) -> str:
    return THREAT_COLORS[i % len(THREAT_COLORS)]


def _sensor_id(sensor: Any) -> str:
    reporting = getattr(sensor, "reporting", None)
    return str(getattr(reporting, "sensor_id", getattr(sensor, "sensor_id", "?")))


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False))


def _nodes(result: RunResult, scenario: Scenario | None) -> list[str]:
    """Tracking nodes: the scenario's, else those of the summary and the Tracks table."""
    if scenario is not None:
        return list(scenario.nodes)
    nodes = list(result.summary.get("tracking", {}))
    if result.tracks.num_rows and "node" in result.tracks.column_names:
        nodes += [
            n for n in dict.fromkeys(result.tracks.column("node").to_pylist()) if n not in nodes
        ]
    return nodes


def _sensor_sites_from_reports(detections: pa.Table, t_mid: float):
    """(sensor id, lat deg, lon deg, alt m) of every reporting sensor nearest ``t_mid``."""
    from hyperdef.core.frames import ecef_to_lla

    if detections.num_rows == 0:
        return []
    ids = np.array(detections.column("sensor_id").to_pylist(), dtype=object)
    t = _column(detections, "t").astype(float)
    xyz = np.column_stack(
        [_column(detections, c).astype(float) for c in ("sensor_x", "sensor_y", "sensor_z")]
    )
    out = []
    for sid in dict.fromkeys(ids.tolist()):  # per sensor (a handful)
        rows = np.flatnonzero(ids == sid)
        j = rows[np.argmin(np.abs(t[rows] - t_mid))]
        lla = ecef_to_lla(xyz[j : j + 1])[0]
        out.append((str(sid), math.degrees(lla[0]), math.degrees(lla[1]), float(lla[2])))
    return out


# ------------------------------------------------------------------------------ figures


def figure_map(result: RunResult, scenario: Scenario | None) -> tuple[bytes, str]:
    """Ground tracks of the threats with the sensor and battery sites.

    Radars and aircraft are drawn where they are at mid-run; the space layer is not
    drawn (its satellites move across the whole globe) and the caption says so. Without
    the scenario, sensors are drawn where their reports nearest mid-run place them
    (those above :data:`SPACE_ALT_M` are taken for the space layer) and batteries are
    not drawn.

    Returns
    -------
    png : bytes
    note : str
        Plain-text remark for the caption (empty when none).
    """
    from hyperdef.core.frames import ecef_to_lla

    truth = result.truth
    fig = _new_figure(9.5, 6.0)
    ax = fig.add_subplot()
    lon_all = np.degrees(truth.lla[:, 1])
    center = float(
        np.degrees(
            np.arctan2(np.mean(np.sin(np.radians(lon_all))), np.mean(np.cos(np.radians(lon_all))))
        )
    )
    for i in range(truth.n_objects):
        rows = truth.rows(i)
        lat = np.degrees(truth.lla[rows, 0])
        lon = _near(np.degrees(np.unwrap(truth.lla[rows, 1])), center)
        lon = lon[0] + np.degrees(np.unwrap(np.radians(lon - lon[0])))
        color = _threat_color(i)
        ax.plot(lon, lat, color=color, lw=1.5, label=f"threat {i} ({truth.kind[i]})")
        ax.plot(lon[0], lat[0], "^", color=color, ms=7)
        ax.plot(lon[-1], lat[-1], "x", color=color, ms=8, mew=2)
    t_mid = 0.5 * (float(np.min(truth.t)) + float(np.max(truth.t)))
    skipped: list[str] = []
    markers = {"radar": ("s", "tab:blue"), "airborne": ("D", "tab:cyan")}
    drawn_kinds: set[str] = set()
    sites = []  # (id, kind, lat deg, lon deg)
    if scenario is not None:
        for sensor in scenario.sensors:
            kind = str(getattr(sensor, "kind", ""))
            if kind not in markers:
                skipped.append(_sensor_id(sensor))
                continue
            r, _ = sensor.position_velocity_ecef(np.array([t_mid]))
            lla = ecef_to_lla(np.asarray(r, dtype=float).reshape(-1, 3))[0]
            sites.append((_sensor_id(sensor), kind, np.degrees(lla[0]), np.degrees(lla[1])))
    else:
        for sid, lat, lon, alt in _sensor_sites_from_reports(result.detections, t_mid):
            if alt > SPACE_ALT_M:
                skipped.append(sid)
                continue
            sites.append((sid, "airborne" if alt > AIRBORNE_ALT_M else "radar", lat, lon))
    for sid, kind, lat, lon_deg in sites:
        marker, color = markers[kind]
        lon = float(_near(lon_deg, center))
        label = None if kind in drawn_kinds else f"{kind} (at t = {t_mid:.0f} s)"
        drawn_kinds.add(kind)
        ax.plot(lon, lat, marker, color=color, ms=8, mec="k", label=label)
        ax.annotate(sid, (lon, lat), xytext=(5, 5), textcoords="offset points", fontsize=8)
    for k, (battery, _) in enumerate(scenario.batteries if scenario is not None else ()):
        site = battery.site_lla
        lon = float(_near(np.degrees(site[1]), center))
        ax.plot(
            lon, np.degrees(site[0]), "*", color="k", ms=13, label="battery" if k == 0 else None
        )
        ax.annotate(
            battery.battery_id,
            (lon, np.degrees(site[0])),
            xytext=(5, -12),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_xlabel("longitude, deg")
    ax.set_ylabel("latitude, deg")
    ax.set_aspect(1.0 / max(math.cos(float(np.mean(truth.lla[:, 0]))), 0.2))
    ax.grid(True, lw=0.4, alpha=0.5)
    ax.set_title("ground tracks (launch ^, end x), sensors and batteries")
    ax.legend(loc="best", fontsize=8)
    note = (
        f"Not drawn: {', '.join(skipped)} (space layer; satellites move over the whole globe)."
        if skipped
        else ""
    )
    if scenario is None:
        note += (
            " Sensors drawn where their reports place them nearest mid-run (silent "
            "sensors and batteries not known without the scenario)."
        )
    return _png_bytes(fig), note


def figure_profiles(result: RunResult) -> bytes:
    """Altitude against ground range from launch for every threat."""
    truth = result.truth
    down_km = truth.downrange_m() / 1e3
    fig = _new_figure(9.5, 4.5)
    ax = fig.add_subplot()
    for i in range(truth.n_objects):
        rows = truth.rows(i)
        ax.plot(
            down_km[rows],
            truth.lla[rows, 2] / 1e3,
            color=_threat_color(i),
            lw=1.3,
            label=f"threat {i} ({truth.kind[i]})",
        )
    ax.set_xlabel("ground range from launch, km")
    ax.set_ylabel("altitude, km")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.grid(True, lw=0.4, alpha=0.5)
    ax.set_title("altitude profiles")
    ax.legend(loc="upper right", fontsize=8)
    return _png_bytes(fig)


def figure_detections(result: RunResult, scenario: Scenario | None) -> bytes:
    """When each sensor reported what: true detections per threat, false alarms in grey."""
    det = result.detections
    reported = sorted(set(det.column("sensor_id").to_pylist())) if det.num_rows else []
    names: list[str] = []
    for sid in [_sensor_id(s) for s in scenario.sensors] if scenario is not None else []:
        # a constellation or a multi-sensor aircraft reports as "<id>-<member>"
        members = [r for r in reported if r == sid or r.startswith(sid + "-")]
        names += [m for m in members if m not in names] if members else [sid]
    names += [r for r in reported if r not in names]
    fig = _new_figure(9.5, max(2.5, 1.0 + 0.45 * len(names)))
    ax = fig.add_subplot()
    ypos = {name: k for k, name in enumerate(names)}
    if det.num_rows:
        t = _column(det, "t").astype(float)
        y = np.array([ypos[s] for s in det.column("sensor_id").to_pylist()], dtype=float)
        tid = np.asarray(
            pc.fill_null(det.column("truth_id"), -1).to_numpy(zero_copy_only=False), dtype=np.int64
        )
        fa = tid < 0
        if "false_alarm" in det.column_names:
            fa |= np.asarray(
                pc.fill_null(det.column("false_alarm"), False).to_numpy(zero_copy_only=False),
                dtype=bool,
            )
        if np.any(fa):
            ax.scatter(
                t[fa],
                y[fa],
                s=4,
                color="0.82",
                marker="|",
                lw=0.8,
                label=f"false alarm ({int(fa.sum())})",
                zorder=1,
            )
        threats = np.unique(tid[~fa])
        # threats side by side within a sensor's row, so none hides another
        offset = np.linspace(-0.3, 0.3, threats.size) if threats.size > 1 else np.zeros(1)
        for i, dy in zip(threats, offset, strict=True):
            sel = ~fa & (tid == i)
            ax.scatter(
                t[sel],
                y[sel] + dy,
                s=9 if threats.size < 4 else 4,
                color=_threat_color(int(i)),
                zorder=2,
                label=f"threat {int(i)} ({int(sel.sum())})",
            )
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)  # first sensor on top
    ax.set_xlabel("time from epoch, s")
    ax.grid(True, axis="x", lw=0.4, alpha=0.5)
    ax.set_title("detection timeline")
    if det.num_rows:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, markerscale=2)
    return _png_bytes(fig)


def _position_sigma2_m(tracks: pa.Table, rows: np.ndarray) -> np.ndarray:
    """2 sqrt(trace of the position block of P) for ``rows`` of ``tracks``, m (NaN: no P)."""
    out = np.full(rows.size, np.nan)
    if "P" not in tracks.column_names or rows.size == 0:
        return out
    col = tracks.column("P").combine_chunks().take(pa.array(rows))
    lengths = np.asarray(pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False))
    good = lengths == 36
    if np.any(good):
        flat = pc.list_flatten(col.filter(pa.array(good))).to_numpy(zero_copy_only=False)
        P = np.asarray(flat, dtype=float).reshape(-1, 6, 6)
        trace = P[:, 0, 0] + P[:, 1, 1] + P[:, 2, 2]
        out[good] = 2.0 * np.sqrt(np.maximum(trace, 0.0))
    return out


def figure_track_errors(result: RunResult, node: str) -> bytes:
    """Position error of one node's confirmed tracks against time, with its 2 sigma.

    Solid: ``|estimate - truth|`` of each track from
    :func:`~hyperdef.tracking.metrics.assign_truth`; dashed: the filter's own
    ``2 sqrt(trace P_pos)`` of the same rows, in the same colour (the threat's).
    """
    from matplotlib.lines import Line2D

    from hyperdef.tracking.metrics import assign_truth

    fig = _new_figure(9.5, 3.8)
    ax = fig.add_subplot()
    tracks = result.tracks
    drawn = 0
    if tracks.num_rows and "node" in tracks.column_names:
        mine = tracks.filter(pc.equal(tracks.column("node"), node))
        if mine.num_rows:
            a = assign_truth(mine, result.truth)
            ok = a.object_index >= 0
            err = np.linalg.norm(a.error[:, :3], axis=1)
            sig2 = _position_sigma2_m(mine, a.row)
            for tid in np.unique(a.track_id[ok]):  # per confirmed track (a few)
                sel = np.flatnonzero(ok & (a.track_id == tid))
                sel = sel[np.argsort(a.t[sel], kind="stable")]
                if sel.size > MAX_POINTS_PER_TRACK:
                    sel = sel[np.linspace(0, sel.size - 1, MAX_POINTS_PER_TRACK).astype(int)]
                obj = int(a.object_index[sel[0]])
                color = _threat_color(obj)
                ax.plot(
                    a.t[sel],
                    err[sel],
                    color=color,
                    lw=1.0,
                    label=f"track {int(tid)} on threat {obj}" if drawn < 8 else None,
                )
                ax.plot(a.t[sel], sig2[sel], color=color, lw=0.9, ls="--", alpha=0.8)
                drawn += 1
    if drawn:
        ax.set_yscale("log")
        handles, labels = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="k", ls="--", lw=0.9))
        labels.append("filter 2-sigma")
        ax.legend(handles, labels, fontsize=7, loc="upper right")
    else:
        ax.text(
            0.5,
            0.5,
            "no confirmed track on a threat",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="0.4",
        )
    ax.set_xlabel("time from epoch, s")
    ax.set_ylabel("position error, m")
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    ax.set_title(f"{node}: track position error (solid) and filter 2-sigma (dashed)")
    return _png_bytes(fig)


def figure_battlespaces(result: RunResult, scenario: Scenario | None) -> list[tuple[bytes, str]]:
    """Battle-space diagram of the first engaged track of each battery that fired.

    The path and window are those the fire control computed: the source node's firm
    track, predicted from the first decision time at which its path was predictable and
    a window opened (as :func:`~hyperdef.engagement.fire_control.run_fire_control`).

    Returns
    -------
    list of (png bytes, caption text)
    """
    from hyperdef.engagement.fire_control import (
        _firm_tracks,
        launch_window,
        path_is_predictable,
        predict_track_path,
        track_acceleration,
    )
    from hyperdef.engagement.flyout import flyout_table
    from hyperdef.engagement.interceptor import INTERCEPTORS
    from hyperdef.report.engagement_plots import plot_battlespace

    eng = result.engagements
    out: list[tuple[bytes, str]] = []
    if scenario is None or eng.num_rows == 0 or result.tracks.num_rows == 0:
        return out
    shot = _column(eng, "shot_id")
    battery_ids = eng.column("battery_id").to_pylist()
    t_launch = _column(eng, "t_launch").astype(float)
    track_ids = _column(eng, "track_id")
    for battery, source in scenario.batteries:
        mine = np.flatnonzero((shot >= 0) & (np.array(battery_ids) == battery.battery_id))
        if mine.size == 0:
            continue
        first = mine[np.argmin(t_launch[mine])]
        tid = int(track_ids[first])
        tracks = result.tracks.filter(pc.equal(result.tracks.column("node"), source))
        trk = _firm_tracks(tracks).get(tid)
        if trk is None:
            continue
        path = window = None
        for t_dec in np.arange(trk["t_firm"], trk["t"][-1] + 1e-9, 5.0):  # decision times
            k = int(np.searchsorted(trk["t"], t_dec, side="right")) - 1
            if not path_is_predictable(trk["x"][k], track_acceleration(trk["t"], trk["x"], k)):
                continue
            path = predict_track_path(trk["t"], trk["x"], t_dec)
            window = launch_window(battery, path, t_dec)
            if window.engageable:
                break
        if path is None or path.t.size < 2:
            continue
        table = flyout_table(INTERCEPTORS[battery.interceptor])
        title = (
            f"{battery.battery_id} ({battery.interceptor}) against track {tid} "
            f"of {source}, predicted from t = {path.t[0]:.0f} s"
        )
        with tempfile.TemporaryDirectory(prefix="hyperdef-report-") as tmp:
            png = Path(tmp) / "battlespace.png"
            plot_battlespace(
                table,
                battery.site_lla,
                path.t,
                path.r_ecef_m,
                {"first window": window},
                png,
                title=title,
            )
            out.append((png.read_bytes(), title))
    return out


# ------------------------------------------------------------------------------ HTML


def _key_numbers(result: RunResult, scenario: Scenario | None) -> str:
    s = result.summary
    threats = s.get("threats", [])
    parts = ['<div class="kpi">']
    for label, key in (
        ("threats", None),
        ("shots", "shots"),
        ("kills", "kills"),
        ("leakers", "leakers"),
        ("refused shots", "refused_shots"),
    ):
        value = len(threats) if key is None else s.get(key, "")
        parts.append(
            f'<div><b id="kpi-{html.escape(label.replace(" ", "-"))}">'
            f"{_fmt(value)}</b>{html.escape(label)}</div>"
        )
    parts.append("</div>")

    # every picture of the run (the nodes' and a fused one), as the summary lists them
    nodes = list(s.get("tracking", {})) or _nodes(result, scenario)
    head = "".join(f"<th>{html.escape(n)}: firm track / warning, s; tracked, % of flight"
                   "</th>" for n in nodes)
    parts.append(
        '<table id="threats"><tr><th>threat</th><th class="l">kind</th>'
        "<th>launch, s</th><th>range, km</th><th>first detection, s after launch"
        '</th><th>at range, km</th><th class="l">by</th>'
        f"{head}<th>engaged</th><th>killed</th></tr>"
    )
    for th in threats:
        first = th.get("first_detection") or {}
        firm = th.get("time_to_firm_track_s") or {}
        warning = th.get("warning_time_s") or {}
        complete = th.get("track_completeness") or {}
        cells = "".join(
            f"<td>{_fmt(firm.get(n), 0)} / {_fmt(warning.get(n), 0)}; "
            f"{_fmt(None if complete.get(n) is None else 100.0 * complete[n], 0)}</td>"
            for n in nodes)
        parts.append(
            f'<tr><td>{_fmt(th.get("object_id"))}</td><td class="l">{_fmt(th.get("kind"))}'
            f"</td><td>{_fmt(th.get('launch_s'))}</td><td>{_fmt(th.get('range_km'))}</td>"
            f"<td>{_fmt(first.get('t_s'))}</td><td>{_fmt(first.get('range_km'))}</td>"
            f'<td class="l">{_fmt(first.get("sensor_id"))}</td>{cells}'
            f"<td>{_fmt(bool(th.get('engaged')))}</td><td>{_fmt(bool(th.get('killed')))}"
            "</td></tr>"
        )
    parts.append("</table>")

    tracking = s.get("tracking", {})
    parts.append(
        '<table id="tracking"><tr><th class="l">node</th><th>position RMSE, m</th>'
        "<th>velocity RMSE, m/s</th><th>OSPA mean, m</th><th>track breaks</th></tr>"
    )
    for node, m in tracking.items():
        parts.append(
            f'<tr><td class="l">{_fmt(node)}</td><td>{_fmt(m.get("rmse_pos_m"))}</td>'
            f"<td>{_fmt(m.get('rmse_vel_m_s'))}</td>"
            f"<td>{_fmt(m.get('ospa_mean_m'))}</td><td>{_fmt(m.get('breaks'))}</td>"
            "</tr>"
        )
    parts.append("</table>")
    return "\n".join(parts)


def _engagement_table(engagements: pa.Table) -> str:
    if engagements.num_rows == 0:
        return '<p class="note">No shot was fired or refused.</p>'
    names = engagements.column_names
    text_cols = {"battery_id", "marking", "node", "status", "reason"}
    head = "".join(
        f"<th{' class=l' if n in text_cols else ''}>{html.escape(n)}</th>" for n in names
    )
    rows = [f'<table id="engagements"><tr>{head}</tr>']
    for rec in engagements.to_pylist():
        cells = "".join(
            f"<td{' class=l' if n in text_cols else ''}>{_fmt(rec[n])}</td>" for n in names
        )
        rows.append(f'<tr class="engagement">{cells}</tr>')
    rows.append("</table>")
    return "\n".join(rows)


def _figure(png: bytes, caption: str, fig_id: str) -> str:
    return (
        f'<figure id="{html.escape(fig_id)}">{_img(png, caption)}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def render_report(result: RunResult, scenario: Scenario | None) -> str:
    """The report's HTML text (see :func:`write_report`)."""
    s = result.summary
    name = str(s.get("scenario", scenario.name if scenario is not None else "run"))
    nodes = _nodes(result, scenario)
    if scenario is not None:
        what = (
            f"{len(scenario.sensors)} sensors, nodes {', '.join(nodes)}, "
            f"{len(scenario.batteries)} batteries"
            + (f"; scenario file {scenario.source}" if scenario.source else "")
        )
    else:
        what = f"nodes {', '.join(nodes)}"
    body: list[str] = [
        f"<h1>hyperdef run: {html.escape(name)}</h1>",
        f'<p class="sub">seed {_fmt(s.get("seed"))}; {html.escape(what)}. Unclassified '
        "research data; fictional and illustrative.</p>",
        "<h2>Key numbers</h2>",
        _key_numbers(result, scenario),
        "<h2>Geometry</h2>",
    ]
    png, note = figure_map(result, scenario)
    body.append(
        _figure(
            png,
            "Ground tracks of the threats with sensor sites (radars and "
            "aircraft at mid-run) and battery sites. " + note,
            "fig-map",
        )
    )
    body.append(
        _figure(
            figure_profiles(result), "Altitude against ground range from launch.", "fig-profile"
        )
    )
    body.append("<h2>Sensing and tracking</h2>")
    body.append(
        _figure(
            figure_detections(result, scenario),
            "Detection timeline: one row "
            "per sensor, a dot per true detection coloured by threat, false "
            "alarms in light grey.",
            "fig-detections",
        )
    )
    for k, node in enumerate(nodes):
        body.append(
            _figure(
                figure_track_errors(result, node),
                f"{node}: position error of "
                "the confirmed tracks against the truth they follow (solid, "
                "assigned by truth id) and the filter's own 2-sigma, "
                "2 sqrt(trace P_pos) (dashed).",
                f"fig-track-errors-{k}",
            )
        )
    body.append("<h2>Engagements</h2>")
    spaces = figure_battlespaces(result, scenario)
    if spaces:
        for k, (png, caption) in enumerate(spaces):
            body.append(
                _figure(
                    png,
                    "Battle space: " + caption + ". Shade: interceptor "
                    "time of flight; line: the threat's predicted path; star: "
                    "the predicted intercept point of the first window.",
                    f"fig-battlespace-{k}",
                )
            )
    elif scenario is None:
        body.append(
            '<p class="note">Battle-space diagrams need the scenario (battery '
            "sites); not drawn.</p>"
        )
    else:
        body.append('<p class="note">No battery fired: no battle-space diagram.</p>')
    body.append(_engagement_table(result.engagements))
    timings = s.get("timings_s", {})
    if timings:
        body.append(
            '<p class="note">Stage timings: '
            + html.escape(", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
            + "</p>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>hyperdef run: {html.escape(name)}</title><style>{_CSS}</style>"
        "</head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(
    result: RunResult, scenario: Scenario | None, path: str | os.PathLike[str]
) -> None:
    """Write the self-contained HTML report of one run.

    Key numbers (threats, first detection per threat, time to firm track per node, shots,
    kills, leakers, track RMSE per node), then the figures: a map of the ground tracks
    with sensor and battery sites, altitude profiles, the detection timeline, track
    position error with the filter's 2-sigma per node, a battle-space diagram for the
    first engaged track of each battery, and the engagements table. Figures are base64
    PNG ``data:`` URIs; the CSS is inline; nothing is fetched from elsewhere.

    Parameters
    ----------
    result : hyperdef.simulation.RunResult
    scenario : hyperdef.scenario.Scenario or None
        The scenario that was run (sensor and battery sites, nodes). Without it the
        sensors are placed from their reports, and batteries and battle spaces are left
        out (the report says so).
    path : str or path-like
        The ``.html`` file, written atomically; its directory must exist.
    """
    text = render_report(result, scenario)
    with atomic_output(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
