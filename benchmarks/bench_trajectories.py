"""Throughput of the batched RK4 glide against a per-vehicle ``scipy.integrate.solve_ivp`` loop.

Flies batches of B CAV-H gliders (B = 1, 100, 10,000 by default) for the same simulated
time with :func:`hyperdef.core.integrate.integrate` (fixed-step RK4, dt 0.5 s) with the
glide guidance at the library's default rate (``GlideGuidance.update_period_s``, 1 s: every
other step) and at every step (2 Hz), commands held in between, and reports vehicle-steps
per second. The peer is
the obvious alternative: a Python loop over the vehicles, each one integrated by
``solve_ivp`` with the same :class:`~hyperdef.threats.hgv.GlideSystem` guidance and
dynamics called inside its right-hand side. The peer is timed on the first ``--ivp-subset``
vehicles; for larger B its time is extrapolated from the measured cost per vehicle (and the
table says so). Final positions of the two are compared on that subset, so the comparison
is of equal work.

Workload: gliders start at 40 km altitude, 4,000 m/s horizontal (close to equilibrium
glide at about 11 deg angle of attack), at random points (latitude and longitude uniform
in +-20 deg, heading uniform) drawn from a seeded ``numpy.random.Generator``, each aimed
at a point 2,500 km ahead along its initial heading. In 200 s none reaches its dive, so
every vehicle flies the whole time in the glide mode. Rows of the draw are per vehicle,
so the B = 100 workload is the first 100 vehicles of the B = 10,000 one.

Usage::

    python benchmarks/bench_trajectories.py [--sizes 1,100,10000] [--sim-time 200] [--json OUT]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import scipy
from scipy.integrate import solve_ivp

import hyperdef
from hyperdef.core.frames import enu_vector_to_ecef, lla_to_ecef
from hyperdef.core.integrate import integrate
from hyperdef.threats.guidance import unit
from hyperdef.threats.hgv import MODE_GLIDE, GlideGuidance, GlideSystem
from hyperdef.threats.vehicles import CAV_H

START_ALT_M = 40_000.0
START_SPEED_M_S = 4_000.0
AIM_RANGE_M = 2_500_000.0
START_BOX_RAD = np.radians(20.0)
MEAN_EARTH_RADIUS_M = 6_371_008.8  # only places the aim point "about 2,500 km ahead"
DT_S = 0.5
TARGET_VEHICLE_STEPS_PER_S = 2e6
#: the glide guidance rate of the library, in integration steps
DEFAULT_CONTROL_EVERY = max(1, round(GlideGuidance().update_period_s / DT_S))
IVP_RTOL = 1e-6
IVP_ATOL = 1e-3  # m, m/s, kg: far below rtol * |y| for every component (|r| ~ 6.4e6 m)
AGREEMENT_LIMIT_M = 100.0


@dataclass(frozen=True, slots=True)
class Workload:
    """B gliders: the integrator system and its initial states (B, 7) ECEF."""

    system: GlideSystem
    y0: np.ndarray

    @property
    def size(self) -> int:
        return self.y0.shape[0]


def make_workload(n: int, seed: int) -> Workload:
    """Random glide starts and their aim points 2,500 km ahead along the heading."""
    rng = np.random.default_rng(seed)
    draw = rng.uniform(-1.0, 1.0, size=(n, 3))  # one row per vehicle: B=100 is a prefix
    lat = START_BOX_RAD * draw[:, 0]
    lon = START_BOX_RAD * draw[:, 1]
    heading = np.pi * draw[:, 2]
    # great-circle destination on a sphere (spherical direct problem)
    delta = AIM_RANGE_M / MEAN_EARTH_RADIUS_M
    aim_lat = np.arcsin(np.sin(lat) * np.cos(delta)
                        + np.cos(lat) * np.sin(delta) * np.cos(heading))
    aim_lon = lon + np.arctan2(np.sin(heading) * np.sin(delta) * np.cos(lat),
                               np.cos(delta) - np.sin(lat) * np.sin(aim_lat))
    start_lla = np.column_stack([lat, lon, np.full(n, START_ALT_M)])
    aim_ecef = lla_to_ecef(np.column_stack([aim_lat, aim_lon, np.zeros(n)]))
    v_enu = START_SPEED_M_S * np.column_stack([np.sin(heading), np.cos(heading), np.zeros(n)])
    y0 = np.column_stack([lla_to_ecef(start_lla), enu_vector_to_ecef(v_enu, start_lla),
                          np.full(n, CAV_H.mass_kg)])
    system = GlideSystem(
        aero=CAV_H.aero, ref_area_m2=np.full(n, CAV_H.ref_area_m2), aim_ecef_m=aim_ecef,
        aim_unit=unit(aim_ecef.T), aim_radius_m=np.sqrt(np.einsum("ij,ij->i", aim_ecef, aim_ecef)),
        maneuver=np.zeros(n, np.int64), t_glide_start_s=np.zeros(n),
        glide_range_m=np.full(n, AIM_RANGE_M), guidance=GlideGuidance(),
        impact_alt_m=np.zeros(n))
    return Workload(system, y0)


def fly_batched(work: Workload, sim_time_s: float, control_every: int, dt_s: float = DT_S):
    """One batched RK4 run of the whole workload (no recording)."""
    n = work.size
    return integrate(work.system, np.zeros(n), work.y0, np.full(n, sim_time_s), dt_s,
                     mode0=np.full(n, MODE_GLIDE), record_every=0, control_every=control_every)


def time_batched(work: Workload, sim_time_s: float, control_every: int, repeats: int) -> dict:
    """Best wall time of ``repeats`` runs, with the CPU time of that run."""
    best = None
    for _ in range(repeats):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        res = fly_batched(work, sim_time_s, control_every)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if best is None or wall < best[0]:
            best = (wall, cpu, res)
    wall, cpu, res = best
    if not (np.all(res.mode == MODE_GLIDE) and np.all(res.status == -1)):
        raise RuntimeError("workload left the glide mode or ended early; timings not comparable")
    vehicle_steps = work.size * res.n_steps
    return {"wall_s": wall, "cpu_s": cpu, "n_steps": res.n_steps, "vehicle_steps": vehicle_steps,
            "vehicle_steps_per_s": vehicle_steps / wall, "runs": repeats, "final_y": res.y}


def single_vehicle_rhs(system: GlideSystem, i: int):
    """``f(t, y)`` of vehicle ``i`` for solve_ivp: guidance, then dynamics, on a 1-vehicle batch."""
    idx = np.array([i])
    mode = np.array([MODE_GLIDE])

    def f(t: float, y: np.ndarray) -> np.ndarray:
        t_arr = np.array([t])
        y_row = y[None, :]
        u, _ = system.controls(t_arr, y_row, idx, mode)
        return system.derivative(t_arr, y_row, idx, u)[0]

    return f


def time_ivp_loop(work: Workload, n_vehicles: int, sim_time_s: float, method: str) -> dict:
    """Per-vehicle solve_ivp runs of the first ``n_vehicles``: wall time, steps, final state."""
    wall = np.empty(n_vehicles)
    steps = np.empty(n_vehicles, np.int64)
    nfev = np.empty(n_vehicles, np.int64)
    final = np.empty((n_vehicles, work.y0.shape[1]))
    for i in range(n_vehicles):
        f = single_vehicle_rhs(work.system, i)
        t0 = time.perf_counter()
        sol = solve_ivp(f, (0.0, sim_time_s), work.y0[i], method=method, rtol=IVP_RTOL,
                        atol=IVP_ATOL)
        wall[i] = time.perf_counter() - t0
        if sol.status != 0:
            raise RuntimeError(f"solve_ivp {method} failed on vehicle {i}: {sol.message}")
        steps[i], nfev[i], final[i] = sol.t.size - 1, sol.nfev, sol.y[:, -1]
    return {"method": method, "wall_s": wall, "steps": steps, "nfev": nfev, "final_y": final}


def ivp_loop_time(ivp: dict, ivp_single_best_s: float, n: int) -> tuple[float, float, bool]:
    """Wall time and accepted vehicle-steps of the solve_ivp loop over n vehicles.

    Measured when n is within the timed subset (n = 1: best of 3 on vehicle 0), otherwise
    n times the mean measured cost per vehicle (extrapolated).
    """
    k = ivp["wall_s"].size
    if n == 1:
        return ivp_single_best_s, float(ivp["steps"][0]), False
    if n <= k:
        return float(ivp["wall_s"][:n].sum()), float(ivp["steps"][:n].sum()), False
    return n * float(ivp["wall_s"].mean()), n * float(ivp["steps"].mean()), True


def machine() -> dict:
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": model, "logical_cpus": os.cpu_count(), "hyperdef": hyperdef_source(),
            "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", ""),
            "platform": platform.platform()}


def hyperdef_source() -> str:
    """Where hyperdef was imported from, with its git commit and whether src/ has local edits."""
    src = os.path.dirname(os.path.dirname(os.path.abspath(hyperdef.__file__)))
    try:
        commit = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", src, "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{src} (not a git checkout)"
    return f"{src} at {commit}" + (" with uncommitted changes under src/" if dirty else "")


def profile_step(work: Workload, n_steps: int, top: int) -> str:
    """cProfile of ``n_steps`` batched steps (run after warm-up): top functions by own time."""
    prof = cProfile.Profile()
    prof.enable()
    fly_batched(work, n_steps * DT_S, 1)
    prof.disable()
    stats = pstats.Stats(prof).stats
    total = sum(v[2] for v in stats.values())
    per_step_ms = 1e3 * total / n_steps
    title = (f"cProfile of {n_steps} steps at B = {work.size}: {per_step_ms:.2f} ms/step under "
             "the profiler; times below are per step")
    lines = [title,
             f"{'function':<60} {'calls':>6} {'own ms':>7} {'cum ms':>7} {'own %':>6}"]
    for (path, line, name), (_, ncalls, own, cum, _) in sorted(
            stats.items(), key=lambda kv: -kv[1][2])[:top]:
        short = path.split("site-packages" + os.sep)[-1].split("src" + os.sep)[-1]
        where = f"{short}:{line}({name})"
        lines.append(f"{where:<60} {ncalls / n_steps:>6.2f} {1e3 * own / n_steps:>7.3f} "
                     f"{1e3 * cum / n_steps:>7.3f} {100 * own / total:>6.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100,10000",
                        help="comma-separated batch sizes (default 1,100,10000)")
    parser.add_argument("--sim-time", type=float, default=200.0,
                        help="simulated glide time per vehicle, s (default 200)")
    parser.add_argument("--json", metavar="OUT", help="also write the figures to this JSON file")
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs per batched case, best kept (default 3)")
    parser.add_argument("--ivp-subset", type=int, default=100,
                        help="vehicles flown with solve_ivp; a larger B is extrapolated "
                        "(default 100)")
    parser.add_argument("--no-dop853", action="store_true", help="skip the DOP853 peer")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also cProfile N steps of the largest batch and print the top 12")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    sim_time = args.sim_time
    wall_start = time.perf_counter()

    work = make_workload(max(sizes), args.seed)
    subsets = {n: Workload(_take(work.system, n), work.y0[:n]) for n in sizes}
    # warm-up: atmosphere tables, first-call imports
    fly_batched(subsets[min(sizes)], 4 * DT_S, 1)
    fly_batched(subsets[min(sizes)], 4 * DT_S, 2)

    k_ivp = min(args.ivp_subset, max(sizes))
    methods = ["RK45"] if args.no_dop853 else ["RK45", "DOP853"]
    ivp = {}
    for method in methods:
        solve_ivp(single_vehicle_rhs(work.system, 0), (0.0, 2.0), work.y0[0], method=method,
                  rtol=IVP_RTOL, atol=IVP_ATOL)  # warm-up
        ivp[method] = time_ivp_loop(work, k_ivp, sim_time, method)
        single = min(time_ivp_loop(work, 1, sim_time, method)["wall_s"][0] for _ in range(3))
        ivp[method]["single_best_s"] = single

    rows = []
    for n in sizes:
        for ce, label in ((1, "every step (2 Hz)"), (DEFAULT_CONTROL_EVERY, "1 Hz (default)")):
            b = time_batched(subsets[n], sim_time, ce, args.repeats)
            row = {"B": n, "control_every": ce, "guidance": label,
                   **{k: v for k, v in b.items() if k != "final_y"}}
            for method in methods:
                w, st, extrap = ivp_loop_time(ivp[method], ivp[method]["single_best_s"], n)
                row[f"{method}_wall_s"] = w
                row[f"{method}_vehicle_steps_per_s"] = st / w
                row[f"{method}_extrapolated"] = extrap
                row[f"{method}_over_batched"] = w / b["wall_s"]
            rows.append(row)
            if n == max(sizes) and ce == 1:
                rk4_final = b["final_y"][:k_ivp]

    # agreement on the subset: batched RK4 (dt 0.5 s, guidance held 0.5 s) vs solve_ivp
    agreement = {}
    for method in methods:
        d = np.linalg.norm(ivp[method]["final_y"][:, :3] - rk4_final[:, :3], axis=1)
        agreement[method] = {"median_m": float(np.median(d)), "max_m": float(d.max())}
    # the same with the guidance held only 25 ms (RK4 at dt 0.025 s): what remains is
    # the difference of the two integrators, not of the two guidance update rates
    n_fine = min(10, k_ivp)
    fine = fly_batched(Workload(_take(work.system, n_fine), work.y0[:n_fine]), sim_time, 1,
                       dt_s=0.025).y
    for method in methods:
        d = np.linalg.norm(ivp[method]["final_y"][:n_fine, :3] - fine[:, :3], axis=1)
        agreement[method]["vs_rk4_dt_0.025_max_m"] = float(d.max())

    info = machine()
    print(f"hyperdef trajectory benchmark: CAV-H glide, {sim_time:g} s simulated, dt {DT_S} s")
    print(f"machine: {info['cpu']}, {info['logical_cpus']} logical CPUs; python {info['python']}, "
          f"numpy {info['numpy']}, scipy {info['scipy']}, "
          f"OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE'] or '(unset)'}")
    print(f"hyperdef: {info['hyperdef']}")
    print()
    print(_table(rows, methods))
    print()
    print(f"solve_ivp peer: one vehicle per call, guidance inside f(t, y), rtol {IVP_RTOL:g}, "
          f"atol {IVP_ATOL:g}; timed on the first {k_ivp} vehicles, '*' = extrapolated from them")
    for method in methods:
        p = ivp[method]
        a = agreement[method]
        print(f"  {method:6s}: {1e3 * p['wall_s'].mean():6.1f} ms/vehicle, "
              f"{p['steps'].mean():5.1f} accepted steps and {p['nfev'].mean():5.1f} f-evals "
              f"per vehicle; final position vs batched RK4: median {a['median_m']:.1f} m, "
              f"max {a['max_m']:.1f} m (vs RK4 with 25 ms guidance hold: max "
              f"{a['vs_rk4_dt_0.025_max_m']:.1f} m)")
        if a["max_m"] > AGREEMENT_LIMIT_M:
            print(f"  WARNING: {method} and batched RK4 disagree by more than "
                  f"{AGREEMENT_LIMIT_M:g} m: the comparison is not of equal work")
    print()
    for ce, what in ((DEFAULT_CONTROL_EVERY, "default 1 Hz guidance"), (1, "guidance every step")):
        big = next(r for r in rows if r["B"] == max(sizes) and r["control_every"] == ce)
        rate = big["vehicle_steps_per_s"]
        verdict = "MET" if rate >= TARGET_VEHICLE_STEPS_PER_S else "NOT MET"
        print(f"target {TARGET_VEHICLE_STEPS_PER_S:.1e} vehicle-steps/s per core at B = {big['B']} "
              f"({what}): {rate:.3g} = {rate / TARGET_VEHICLE_STEPS_PER_S:.0%} of target, "
              f"{verdict} (CPU/wall {big['cpu_s'] / big['wall_s']:.2f}: one core)")
        if ce == DEFAULT_CONTROL_EVERY:
            default_rate = rate
    print(f"total benchmark time {time.perf_counter() - wall_start:.1f} s")

    if args.profile:
        print()
        print(profile_step(subsets[max(sizes)], args.profile, 12))

    if args.json:
        payload = {"command": " ".join([os.path.basename(sys.executable)] + sys.argv),
                   "machine": info, "sim_time_s": sim_time, "dt_s": DT_S, "seed": args.seed,
                   "ivp_subset": k_ivp, "ivp_rtol": IVP_RTOL, "ivp_atol": IVP_ATOL,
                   "rows": rows, "agreement": agreement,
                   "ivp_per_vehicle": {m: {"wall_s_mean": float(ivp[m]["wall_s"].mean()),
                                           "steps_mean": float(ivp[m]["steps"].mean()),
                                           "nfev_mean": float(ivp[m]["nfev"].mean())}
                                       for m in methods},
                   "target_vehicle_steps_per_s": TARGET_VEHICLE_STEPS_PER_S,
                   "target_met_at_default_guidance": default_rate >= TARGET_VEHICLE_STEPS_PER_S}
        with open(args.json, "w") as fh:
            json.dump(payload, fh, indent=2)
    return 0


def _take(system: GlideSystem, n: int) -> GlideSystem:
    """The first n vehicles of a system (its per-vehicle arrays cut to n rows)."""
    return GlideSystem(aero=system.aero, ref_area_m2=system.ref_area_m2[:n],
                       aim_ecef_m=system.aim_ecef_m[:n], aim_unit=system.aim_unit[:, :n].copy(),
                       aim_radius_m=system.aim_radius_m[:n], maneuver=system.maneuver[:n],
                       t_glide_start_s=system.t_glide_start_s[:n],
                       glide_range_m=system.glide_range_m[:n], guidance=system.guidance,
                       impact_alt_m=system.impact_alt_m[:n])


def _table(rows: list[dict], methods: list[str]) -> str:
    head = (f"{'B':>6} {'guidance':<18} {'steps':>5} {'RK4 wall s':>10} {'veh-steps/s':>11} "
            f"{'CPU/wall':>8}")
    for m in methods:
        head += f" | {m + ' loop s':>13} {'veh-steps/s':>11} {'ratio':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        line = (f"{r['B']:>6} {r['guidance']:<18} {r['n_steps']:>5} {r['wall_s']:>10.4f} "
                f"{r['vehicle_steps_per_s']:>11.3g} {r['cpu_s'] / r['wall_s']:>8.2f}")
        for m in methods:
            star = "*" if r[f"{m}_extrapolated"] else " "
            line += (f" | {r[f'{m}_wall_s']:>12.3f}{star} {r[f'{m}_vehicle_steps_per_s']:>11.3g} "
                     f"{r[f'{m}_over_batched']:>6.2f}x")
        lines.append(line)
    lines.append("ratio = solve_ivp loop wall time / batched RK4 wall time for the same B "
                 "vehicles and simulated time (> 1: batched is faster)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
