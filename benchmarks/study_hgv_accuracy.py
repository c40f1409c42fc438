"""HGV accuracy study: a weaving glider past a coalition's sensors, national vs fused pictures.

Issue "Coalition tracking", part 7. One HGV (launch 38N 118E, aim 26.2N 127.7E, the README
example) flies a 40 deg / 150 s bank weave. The sensors are those the issue names from
``scenarios/sensors_example.yaml``: the two S-band ships (``ddg-east-china-sea``, node JPN;
``ddg-okinawa``, node USA), the LEO IR layer (USA) and the MQ-9 (USA). All five sensors of
the file observe with one generator (seed 0) in file order, so the reports are those of
the full network; the X-band ground radar's (``tpy2-okinawa``) are then dropped, because
the issue's picture is without it (``--with-tpy2`` keeps them).

Pictures, all IMM(CV, glide) EKF trackers with the library defaults:

- national JPN: the reports of JPN's own sensors (``node == 'JPN'``);
- national USA: the reports of USA's own sensors (``node == 'USA'``);
- fused: central fusion at USA, :func:`hyperdef.tracking.fusion.central_fusion` (every
  report released to USA).

Every sensor of the example file is marked ``REL TO USA, JPN``, so ``released_to`` gives
each nation every report and a "national picture" of released reports would equal the
fused one. A national picture is therefore what a nation sees *without* the coalition
exchange: its own sensors only.

Figures computed (printed, and returned by :func:`run_study`):

- time of the first confirmed ("firm") track on the HGV per picture;
- position and velocity RMSE per picture over the common tracked interval (times where
  every picture has a confirmed track on the HGV);
- NEES (6 states, track P against the truth) per update row (rows where ``n_updates``
  grew), and the fraction inside the single-run two-sided 95 % chi-square band;
- track breaks during the weave (pull-out and glide phases, before the dive);
- the PCRLB of position along the truth with the picture's actual true reports
  (``meas_type``, sensor position/velocity and R from the Detections table, grouped by
  measurement time), and the ratio RMSE / sqrt(mean tr PCRLB_pos) on straight segments.

Bound model. The PCRLB uses :class:`hyperdef.tracking.models.Glide` with the tracker's
default noise (1 m/s^2 CWNA; ln beta and L/D walks 0.02 /sqrt(s); bank walk
0.1 rad/sqrt(s)), i.e. the IMM's glide mode: it is the bound for an estimator that knows
the glide physics and models the manoeuvre as the bank random walk the filter assumes. A
CV bound with the CV mode's 10 m/s^2 noise would be looser (it lets the target accelerate
at 1 g in any direction) and say little about the glide mode. The truth's aerodynamic
parameters, which the Jacobians need, are recovered per sample from the truth
acceleration: ``a_aero = a_truth - a_free`` (``a_free``: the model's J2 gravity,
Coriolis and centrifugal terms), drag ``D = -a_aero . v_hat``, ``ln beta = ln(q / D)``
with the model's atmosphere, L/D and bank from the lift vector in the model's own
convention (the fit is checked: the model acceleration at the fitted state reproduces
the truth's). Prior at the first radar report of the picture: diffuse (position
10 km, velocity 3 km/s per axis, ln beta 1, L/D 1, bank 1 rad), since no track can start
before it; earlier IR angles are left out, which can only make the bound larger.

Straight segments: the times of the pull-out and glide phases (where the weave acts)
when the truth's lateral acceleration (along ``v x r_hat``) is below 2 m/s^2, i.e. a
bank within about +-11 deg of level for 1 g of lift (the weave's bank peaks at 40 deg,
about 6 m/s^2 here).

Run: ``.venv/bin/python benchmarks/study_hgv_accuracy.py [--seed 0] [--plot PATH]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hyperdef.sensors.config import load_sensors
from hyperdef.sensors.detections import concat_detections
from hyperdef.threats import fly
from hyperdef.threats.trajectory import PHASE_CODE, Trajectory
from hyperdef.tracking import metrics
from hyperdef.tracking.crlb import pcrlb
from hyperdef.tracking.fusion import central_fusion
from hyperdef.tracking.models import MODELS, physics_acceleration
from hyperdef.tracking.tracker import TrackerConfig, run_tracker

ROOT = Path(__file__).resolve().parents[1]
SENSORS_YAML = ROOT / "scenarios" / "sensors_example.yaml"
LAUNCH_RAD = np.radians([38.0, 118.0, 0.0])
AIM_RAD = np.radians([26.2, 127.7, 0.0])
CONFIG = TrackerConfig(model="imm", imm_models=("cv", "glide"))
PICTURES = ("JPN", "USA", "fused")
#: lateral acceleration below which a weave sample counts as straight, m/s^2
STRAIGHT_LATERAL_M_S2 = 2.0
#: diffuse prior standard deviations of the bound: r (m), v (m/s), ln beta, L/D, bank (rad)
PRIOR_SIGMA = np.array([1e4] * 3 + [3e3] * 3 + [1.0, 1.0, 1.0])


@dataclass
class Picture:
    """Figures of one picture."""

    name: str
    detections: pa.Table
    tracks: pa.Table
    t_first_report_s: float = np.nan
    t_firm_s: float = np.nan
    rmse_pos_m: float = np.nan
    rmse_vel_m_s: float = np.nan
    nees_fraction: float = np.nan
    n_updates: int = 0
    breaks_weave: int = 0
    rmse_straight_m: float = np.nan
    bound_straight_m: float = np.nan
    ratio_straight: float = np.nan
    err_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    err_pos_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bound_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bound_pos_m: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class Study:
    """Everything the test and the report read."""

    truth: Trajectory
    detections: pa.Table
    pictures: dict[str, Picture]
    weave_s: tuple[float, float]
    straight_t: np.ndarray
    common_s: tuple[float, float]
    nees_band: tuple[float, float]
    fit_residual_m_s2: float
    wall_s: float


# ----------------------------------------------------------------------------- truth


def lateral_acceleration(truth: Trajectory) -> np.ndarray:
    """Truth acceleration along ``v x r_hat`` (m/s^2), shape (M,); 0 where v = 0."""
    r, v = truth.r_ecef_m, truth.v_ecef_m_s
    side = np.cross(v, r / np.linalg.norm(r, axis=1)[:, None])
    norm = np.linalg.norm(side, axis=1)
    side = side / np.where(norm > 0, norm, 1.0)[:, None]
    return np.einsum("ij,ij->i", truth.a_ecef_m_s2, side)


def glide_states(truth: Trajectory, t_s: np.ndarray) -> tuple[np.ndarray, float]:
    """Truth states (K, 9) of the Glide model at ``t_s`` and the fit residual (m/s^2).

    ln beta, L/D and bank are recovered from the truth acceleration (module notes).
    """
    r, v, a = truth.state_at(np.zeros(t_s.size, dtype=np.int64), t_s)
    x = np.zeros((t_s.size, 9))
    x[:, :3], x[:, 3:6] = r, v
    x[:, 6] = 60.0  # beta -> inf: free flight
    a_free = physics_acceleration(x, lifting=False)
    a_aero = a - a_free
    speed = np.linalg.norm(v, axis=1)
    v_hat = v / speed[:, None]
    drag = np.maximum(-np.einsum("ij,ij->i", a_aero, v_hat), 1e-6)
    x[:, 6] = 0.0
    q_over_beta_at_0 = physics_acceleration(x, lifting=False)
    # with ln beta = 0 the drag term alone is -q v_hat: recover q from the difference
    q = -np.einsum("ij,ij->i", q_over_beta_at_0 - a_free, v_hat)
    x[:, 6] = np.log(np.maximum(q, 1e-12) / drag)
    lift_vec = a_aero + drag[:, None] * v_hat
    rn = np.linalg.norm(r, axis=1)
    sin_g = np.einsum("ij,ij->i", r, v) / (rn * speed)
    cos_g2 = np.maximum(1.0 - sin_g**2, 1e-12)
    e1 = r / rn[:, None] - sin_g[:, None] * v_hat
    e2 = np.cross(v, r) / (rn * speed)[:, None]
    c1 = np.einsum("ij,ij->i", lift_vec, e1) / cos_g2
    c2 = np.einsum("ij,ij->i", lift_vec, e2) / cos_g2
    lift = np.hypot(c1, c2)
    x[:, 8] = np.arctan2(c2, c1)
    x[:, 7] = lift * np.sqrt(cos_g2) / drag
    a_model = physics_acceleration(x, lifting=True)
    residual = float(np.max(np.linalg.norm(a_model - a, axis=1)))
    return x, residual


# ----------------------------------------------------------------------------- bound


def measurement_list(detections: pa.Table, t0_s: float) -> tuple[np.ndarray, list]:
    """Times (K,) of the true reports at or after ``t0_s`` and their measurement tuples."""
    true = detections.filter(
        pc.and_(
            pc.greater_equal(detections["truth_id"], 0), pc.greater_equal(detections["t"], t0_s)
        )
    )
    t = true["t"].to_numpy()
    kinds = true["meas_type"].to_pylist()
    R = true["R"].to_pylist()
    pos = np.stack([true[c].to_numpy() for c in ("sensor_x", "sensor_y", "sensor_z")], axis=1)
    vel = np.stack([true[c].to_numpy() for c in ("sensor_vx", "sensor_vy", "sensor_vz")], axis=1)
    times, inverse = np.unique(t, return_inverse=True)
    meas: list[list] = [[] for _ in times]
    for i, k in enumerate(inverse):
        m = int(round(np.sqrt(len(R[i]))))
        meas[k].append((kinds[i], pos[i], vel[i], np.reshape(R[i], (m, m))))
    return times, meas


def position_bound(truth: Trajectory, detections: pa.Table) -> tuple[np.ndarray, np.ndarray, float]:
    """sqrt(tr PCRLB_pos) (m) at the true-report times from the picture's first radar report."""
    radar = detections.filter(
        pc.and_(
            pc.greater_equal(detections["truth_id"], 0),
            pc.not_equal(detections["meas_type"], "los"),
        )
    )
    t0 = float(pc.min(radar["t"]).as_py())
    times, meas = measurement_list(detections, t0)
    x, residual = glide_states(truth, times)
    J0 = np.diag(1.0 / PRIOR_SIGMA**2)
    bounds = pcrlb(MODELS["glide"], x, times, meas, J0)
    return times, np.sqrt(np.trace(bounds[:, :3, :3], axis1=1, axis2=2)), residual


# ----------------------------------------------------------------------------- study


def _update_rows(tracks: pa.Table, rows: np.ndarray) -> np.ndarray:
    """Mask of the rows (of ``rows``) whose track's ``n_updates`` grew at that row."""
    tid = tracks["track_id"].to_numpy()
    nup = tracks["n_updates"].to_numpy()
    t = tracks["t"].to_numpy()
    order = np.lexsort((t, tid))
    grew = np.zeros(tid.size, dtype=bool)
    same = tid[order][1:] == tid[order][:-1]
    grew[order[1:]] = ~same | (nup[order][1:] > nup[order][:-1])
    grew[order[0]] = True
    return grew[rows]


def _picture_figures(p: Picture, truth: Trajectory, band, weave, straight_t, common) -> None:
    a, nees = metrics.track_nees(p.tracks, truth)
    hit = a.object_index == 0
    true = p.detections.filter(pc.equal(p.detections["truth_id"], 0))
    p.t_first_report_s = float(pc.min(true["t"]).as_py())
    p.t_firm_s = float(a.t[hit].min()) if hit.any() else np.nan
    p.err_t = a.t[hit]
    p.err_pos_m = np.linalg.norm(a.error[hit, :3], axis=1)
    in_common = hit & (a.t >= common[0]) & (a.t <= common[1])
    p.rmse_pos_m = float(np.sqrt(np.mean(np.sum(a.error[in_common, :3] ** 2, axis=1))))
    p.rmse_vel_m_s = float(np.sqrt(np.mean(np.sum(a.error[in_common, 3:] ** 2, axis=1))))
    upd = hit & _update_rows(p.tracks, a.row) & np.isfinite(nees)
    p.n_updates = int(upd.sum())
    p.nees_fraction = metrics.fraction_inside_band(nees[upd], *band)
    w = p.tracks.filter(
        pc.and_(pc.greater_equal(p.tracks["t"], weave[0]), pc.less_equal(p.tracks["t"], weave[1]))
    )
    p.breaks_weave = metrics.track_breaks_and_swaps(w, truth).total_breaks
    bt, bpos, _ = position_bound(truth, p.detections)
    p.bound_t, p.bound_pos_m = bt, bpos
    # straight samples: track rows at report times inside straight segments
    sel = hit & np.isin(a.t, straight_t) & np.isin(a.t, bt)
    if sel.any():
        b = bpos[np.searchsorted(bt, a.t[sel])]
        p.rmse_straight_m = float(np.sqrt(np.mean(np.sum(a.error[sel, :3] ** 2, axis=1))))
        p.bound_straight_m = float(np.sqrt(np.mean(b**2)))
        p.ratio_straight = p.rmse_straight_m / p.bound_straight_m


def simulate(seed: int = 0, with_tpy2: bool = False) -> tuple[Trajectory, pa.Table]:
    """Truth and the coalition's Detections (all sensors observe with one generator)."""
    truth = fly("hgv", LAUNCH_RAD, AIM_RAD, maneuver="weave")
    rng = np.random.default_rng(seed)
    det = concat_detections([s.observe(truth, rng) for s in load_sensors(SENSORS_YAML)])
    if not with_tpy2:
        det = det.filter(pc.not_equal(det["sensor_id"], "tpy2-okinawa"))
    return truth, det


def run_study(seed: int = 0, with_tpy2: bool = False) -> Study:
    """Run the whole study (module notes)."""
    start = time.perf_counter()
    truth, det = simulate(seed, with_tpy2)
    pictures = {}
    for node in ("JPN", "USA"):
        own = det.filter(pc.equal(det["node"], node))
        pictures[node] = Picture(node, own, run_tracker(own, CONFIG, node=node).table)
    fused = central_fusion(det, CONFIG, node="USA").table
    pictures["fused"] = Picture("fused", det, fused)

    phase = truth.phase
    weave_mask = (phase == PHASE_CODE["pullout"]) | (phase == PHASE_CODE["glide"])
    weave = (float(truth.t[weave_mask].min()), float(truth.t[weave_mask].max()))
    all_t = np.unique(det["t"].to_numpy())
    all_t = all_t[(all_t >= weave[0]) & (all_t <= weave[1])]
    k = np.clip(np.searchsorted(truth.t, all_t), 0, truth.t.size - 1)
    lat = np.interp(all_t, truth.t, lateral_acceleration(truth))
    straight_t = all_t[(np.abs(lat) < STRAIGHT_LATERAL_M_S2) & weave_mask[k]]

    spans = []
    for p in pictures.values():
        a = metrics.assign_truth(p.tracks, truth)
        tt = a.t[a.object_index == 0]
        spans.append((tt.min(), tt.max()))
    common = (float(max(s[0] for s in spans)), float(min(s[1] for s in spans)))
    band = metrics.chi2_band(6, 1, 0.95)
    for p in pictures.values():
        _picture_figures(p, truth, band, weave, straight_t, common)
    _, residual = glide_states(truth, np.unique(det["t"].to_numpy()[det["t"].to_numpy() >= 176.0]))
    return Study(
        truth=truth,
        detections=det,
        pictures=pictures,
        weave_s=weave,
        straight_t=straight_t,
        common_s=common,
        nees_band=band,
        fit_residual_m_s2=residual,
        wall_s=time.perf_counter() - start,
    )


# ----------------------------------------------------------------------------- report


def report(study: Study) -> str:
    """The study's numbers as a Markdown table plus notes."""
    lines = [
        "| picture | first true report s | first firm track s | pos RMSE m | vel RMSE m/s "
        "| NEES in 95% band | updates | breaks in weave | straight RMSE m | PCRLB m "
        "| RMSE/PCRLB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in study.pictures.values():
        lines.append(
            f"| {p.name} | {p.t_first_report_s:.0f} | {p.t_firm_s:.0f} | {p.rmse_pos_m:.1f} "
            f"| {p.rmse_vel_m_s:.1f} | {100 * p.nees_fraction:.1f} % | {p.n_updates} "
            f"| {p.breaks_weave} | {p.rmse_straight_m:.1f} | {p.bound_straight_m:.1f} "
            f"| {p.ratio_straight:.2f} |"
        )
    lines.append("")
    lines.append(
        f"Weave (pull-out and glide) {study.weave_s[0]:.0f}-{study.weave_s[1]:.0f} s; "
        f"common tracked interval {study.common_s[0]:.0f}-{study.common_s[1]:.0f} s; "
        f"straight report times {study.straight_t.size}; NEES band "
        f"[{study.nees_band[0]:.2f}, {study.nees_band[1]:.2f}]; glide-parameter fit "
        f"residual max {study.fit_residual_m_s2:.2e} m/s^2; wall {study.wall_s:.1f} s."
    )
    return "\n".join(lines)


def plot(study: Study, path: Path) -> None:
    """Position error vs time per picture, with sqrt(tr PCRLB_pos), the weave marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    colours = {"JPN": "tab:red", "USA": "tab:blue", "fused": "black"}
    for p in study.pictures.values():
        ax.plot(
            p.err_t,
            p.err_pos_m,
            ".",
            ms=2,
            color=colours[p.name],
            alpha=0.6,
            label=f"{p.name} IMM error (RMSE {p.rmse_pos_m:.0f} m)",
        )
        ax.plot(
            p.bound_t,
            p.bound_pos_m,
            "-",
            lw=1.2,
            color=colours[p.name],
            label=f"{p.name} PCRLB (glide model)",
        )
    ax.axvspan(*study.weave_s, color="0.9", zorder=0, label="weave (pull-out + glide)")
    ax.plot(
        study.straight_t,
        np.full(study.straight_t.size, 3.0),
        "|",
        color="tab:green",
        ms=4,
        label="straight segments",
    )
    ax.set_yscale("log")
    t0 = min(p.err_t.min() for p in study.pictures.values()) - 20
    ax.set_xlim(t0, study.truth.t[-1])
    ax.set_xlabel("time from launch, s")
    ax.set_ylabel("position error, m")
    ax.set_title("Weaving HGV: national and fused pictures, IMM(CV, glide)")
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    ax.grid(True, which="both", lw=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--with-tpy2", action="store_true")
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args(argv)
    study = run_study(args.seed, args.with_tpy2)
    print(report(study))
    if args.plot is not None:
        plot(study, args.plot)
        print(f"figure: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
