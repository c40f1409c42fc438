"""Campaign throughput: runs per minute on local processes, 1 worker against 2, runs in
lockstep against the same runs one at a time.

Workloads (both from ``scenarios/single_hgv.yaml``):

* **full**: the scenario as shipped (weaving CAV-H-class glider over 1,595 km, X-band and
  S-band radars, USA IMM(CV, glide) and JPN CV trackers, 4-round shoot-look-shoot SM-6
  battery).
* **reduced**: the test-suite variant (``tests/integration/test_campaign.py``): the X-band
  radar only, one node (USA, CV tracker), a non-weaving glider launched from 32 N 122 E
  (~850 km; the HGV model's minimum range is 700 km), one interceptor.

Each is run as a :func:`hyperdef.montecarlo.run_campaign` with ``workers=1`` (in this
process) and ``workers=2`` (a :class:`~concurrent.futures.ProcessPoolExecutor`, pool start
included in the wall time) on the same seed, in two modes: ``lockstep`` (the default: up
to ``--lockstep`` runs flown together by :func:`hyperdef.simulation.draw_summaries`) and, as the
peer, ``one-at-a-time`` (``lockstep=1``, how campaigns ran before). Run ``i``'s seed does not
depend on the number of runs, so the first runs of the two modes are the same runs: their
rows must be identical (checked), as must the tables of 1 and 2 workers. Parallel
efficiency is ``rate(2) / (2 * rate(1))``. The CPU time of each run on its worker is also
reported: ``60 * cores / mean CPU s`` is the rate the machine could reach if nothing else
ran on it, which tells a loaded machine apart from a slow code path.

Usage::

    python benchmarks/bench_campaign.py [--runs 256] [--peer-runs 8] [--lockstep 128]
                                        [--repeats 3] [--workloads full,reduced] [--append]

``--append`` adds the section to ``benchmarks/RESULTS.md`` (at the end).
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from hyperdef.montecarlo import LOCKSTEP_RUNS, TIMING_COLUMNS, run_campaign
from hyperdef.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "single_hgv.yaml"
TARGET_RUNS_PER_MINUTE = 300.0
TARGET_EFFICIENCY = 0.90


def scenarios():
    data = yaml.safe_load(SCENARIO.read_text())
    reduced = copy.deepcopy(data)
    reduced["sensors"] = reduced["sensors"][:1]
    reduced["sensors"][0]["releasable_to"] = []
    reduced.pop("links", None)
    reduced["nodes"] = [{"name": "USA", "tracker": {"model": "cv"}}]
    reduced["batteries"][0].update(node="USA", inventory=1)
    reduced["threats"][0].update({"from": [32.0, 122.0], "maneuver": "none"})
    return {
        "full": parse_scenario(data, "single_hgv"),
        "reduced": parse_scenario(reduced, "reduced_single_hgv"),
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"


def load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def reference_s() -> float:
    """Seconds of a fixed piece of numpy work that no hyperdef change touches (20 rounds
    of an exponential over 2e6 values and a product of 2,000 stacked 9 x 9 matrices, the
    shapes of a tracker's glide prediction): the machine's speed at the time, so figures
    measured on different days can be told apart from changes in the code. (Before
    2026-12-08 it timed the glide model's prediction, which that day's change sped up.)"""
    rng = np.random.default_rng(0)
    values = rng.uniform(-5.0, 0.0, 2_000_000)
    a, b = rng.standard_normal((2, 2000, 9, 9))
    start = time.perf_counter()
    for _ in range(20):
        np.exp(values)
        a @ b @ np.swapaxes(a, -1, -2)
    return time.perf_counter() - start


def measure(name, mode, scenario, runs, seed, lockstep, repeats):
    """``repeats`` rounds of one 1-worker and one 2-worker campaign, the order swapped
    every round (1, 2 / 2, 1 / ...) so a drift in the machine's speed falls on both."""
    rows = []
    tables = {}
    for rep in range(repeats):
        for workers in ((1, 2) if rep % 2 == 0 else (2, 1)):
            before, ref = load(), reference_s()
            result = run_campaign(scenario, runs, seed=seed, workers=workers,
                                  lockstep=lockstep)
            table = result.table.drop(list(TIMING_COLUMNS))
            if workers in tables and not tables[workers].equals(table):
                raise SystemExit(f"{name} {mode}: repeat {rep} gave other rows")
            tables[workers] = table
            cpu = result.table.column("cpu_s").to_pylist()
            wall = result.table.column("wall_s").to_pylist()
            rows.append(
                {
                    "workload": name,
                    "mode": mode,
                    "repeat": rep + 1,
                    "workers": workers,
                    "runs": runs,
                    "wall_s": result.wall_s,
                    "rate": result.runs_per_minute,
                    "run_wall_s": sum(wall) / len(wall),
                    "run_cpu_s": sum(cpu) / len(cpu),
                    "reference_s": ref,
                    "load": f"{before} -> {load()}",
                }
            )
            print(
                f"  {name} {mode} repeat {rep + 1} workers={workers}: {runs} runs in "
                f"{result.wall_s:.1f} s ({result.runs_per_minute:.1f} runs/min; reference "
                f"{ref:.2f} s)",
                file=sys.stderr,
                flush=True,
            )
    rate = {w: statistics.median(r["rate"] for r in rows if r["workers"] == w) for w in (1, 2)}
    pairs = [
        next(r["rate"] for r in rows if r["repeat"] == rep and r["workers"] == 2)
        / (2 * next(r["rate"] for r in rows if r["repeat"] == rep and r["workers"] == 1))
        for rep in range(1, repeats + 1)
    ]
    return {
        "rows": rows,
        "rate": rate,
        "efficiency": rate[2] / (2 * rate[1]),
        "efficiencies": pairs,
        "same": tables[1].equals(tables[2]),
        "table": tables[1],
        "workload": name,
        "mode": mode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=256, help="runs of the lockstep mode")
    parser.add_argument("--peer-runs", type=int, default=8, help="runs one at a time")
    parser.add_argument("--lockstep", type=int, default=LOCKSTEP_RUNS)
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds of 1 and 2 workers in the lockstep mode (medians)")
    parser.add_argument("--workloads", default="full,reduced")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--append", action="store_true", help="append to benchmarks/RESULTS.md")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats: {args.repeats} must be >= 1")

    built = scenarios()
    results = []
    agree = {}
    for name in args.workloads.split(","):
        lock = measure(name, "lockstep", built[name], args.runs, args.seed, args.lockstep,
                       args.repeats)
        peer = measure(name, "one-at-a-time", built[name], args.peer_runs, args.seed, 1, 1)
        n = min(args.runs, args.peer_runs)
        agree[name] = (lock, peer, lock["table"].slice(0, n).equals(peer["table"].slice(0, n)))
        results += [lock, peer]

    cores = os.cpu_count() or 1
    lines = [
        "| workload | mode | round | workers | runs | wall s | runs/min | mean run wall s "
        "| mean run CPU s | CPU-bound ceiling runs/min | reference s | load avg 1/5/15 min "
        "(before -> after) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    verdicts = []
    for res in results:
        for row in res["rows"]:
            ceiling = 60.0 * min(row["workers"], cores) / row["run_cpu_s"]
            lines.append(
                f"| {row['workload']} | {row['mode']} | {row['repeat']} | {row['workers']} "
                f"| {row['runs']} | {row['wall_s']:.1f} | {row['rate']:.1f} "
                f"| {row['run_wall_s']:.3f} | {row['run_cpu_s']:.3f} | {ceiling:.1f} "
                f"| {row['reference_s']:.2f} | {row['load']} |"
            )
        rate2, efficiency = res["rate"][2], res["efficiency"]
        rounds = len(res["efficiencies"])
        spread = (f" (each round: {', '.join(f'{e:.0%}' for e in res['efficiencies'])})"
                  if rounds > 1 else "")
        verdicts.append(
            f"* {res['workload']}, {res['mode']}, median of {rounds} round(s): "
            f"{res['rate'][1]:.1f} runs/min on 1 worker, {rate2:.1f} on 2"
            + (f" (target {TARGET_RUNS_PER_MINUTE:.0f}: "
               f"{'met' if rate2 >= TARGET_RUNS_PER_MINUTE else 'NOT met'})"
               if res["workload"] == "full" and res["mode"] == "lockstep" else "")
            + f"; parallel efficiency "
            f"{efficiency:.0%}{spread} (target {TARGET_EFFICIENCY:.0%}: "
            f"{'met' if efficiency >= TARGET_EFFICIENCY else 'NOT met'}); tables identical for "
            f"1 and 2 workers: {res['same']}."
        )
    for name, (lock, peer, same) in agree.items():
        verdicts.append(
            f"* {name}: lockstep {lock['rate'][2] / peer['rate'][2]:.1f}x the runs/min of one "
            f"at a time (2 workers, medians); the runs both modes flew have identical rows: "
            f"{same}."
        )
    table = "\n".join(lines)
    print(table)
    print("\n".join(verdicts))

    if args.append:
        date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
        command = "python benchmarks/bench_campaign.py " + " ".join(sys.argv[1:])
        section = (
            "\n\n## Campaign throughput (`bench_campaign.py`)\n\n"
            f"Command: `{command}`  \nDate: {date}  \nMachine: {machine()}\n\n"
            "Workloads: `full` is `scenarios/single_hgv.yaml` as shipped; `reduced` is the "
            "test-suite variant (X-band radar only, USA node with a CV tracker, non-weaving "
            "glider from 32 N 122 E, one interceptor). Modes: `lockstep` flies up to "
            f"{args.lockstep} runs together (`draw_summaries`), `one-at-a-time` (the peer) one run "
            "per batch. Each round runs 1 and 2 workers, in swapped order every other round; "
            "the verdicts use the medians. Wall time includes the process pool's start-up; the "
            "CPU-bound ceiling is 60 x workers / mean CPU s per run, the rate an otherwise idle "
            "machine would allow; the reference is the time of a fixed piece of numpy work "
            "just before each campaign (the machine's speed at that moment). Efficiency = "
            "rate(2) / (2 x rate(1)).\n\n"
            f"{table}\n\n" + "\n".join(verdicts) + "\n"
        )
        with open(ROOT / "benchmarks" / "RESULTS.md", "a") as handle:
            handle.write(section)


if __name__ == "__main__":
    main()
