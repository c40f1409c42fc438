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

    python benchmarks/bench_campaign.py [--runs 256] [--peer-runs 8] [--lockstep 64]
                                        [--workloads full,reduced] [--append]

``--append`` adds the section to ``benchmarks/RESULTS.md`` (at the end).
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import subprocess
import sys
from pathlib import Path

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


def measure(name, mode, scenario, runs, seed, lockstep):
    rows = []
    tables = {}
    for workers in (1, 2):
        before = load()
        result = run_campaign(scenario, runs, seed=seed, workers=workers, lockstep=lockstep)
        tables[workers] = result.table.drop(list(TIMING_COLUMNS))
        cpu = result.table.column("cpu_s").to_pylist()
        wall = result.table.column("wall_s").to_pylist()
        rows.append(
            {
                "workload": name,
                "mode": mode,
                "workers": workers,
                "runs": runs,
                "wall_s": result.wall_s,
                "rate": result.runs_per_minute,
                "run_wall_s": sum(wall) / len(wall),
                "run_cpu_s": sum(cpu) / len(cpu),
                "load": f"{before} -> {load()}",
            }
        )
        print(
            f"  {name} {mode} workers={workers}: {runs} runs in {result.wall_s:.1f} s "
            f"({result.runs_per_minute:.1f} runs/min)",
            file=sys.stderr,
            flush=True,
        )
    same = tables[1].equals(tables[2])
    efficiency = rows[1]["rate"] / (2 * rows[0]["rate"])
    return rows, efficiency, same, tables[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=256, help="runs of the lockstep mode")
    parser.add_argument("--peer-runs", type=int, default=8, help="runs one at a time")
    parser.add_argument("--lockstep", type=int, default=LOCKSTEP_RUNS)
    parser.add_argument("--workloads", default="full,reduced")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--append", action="store_true", help="append to benchmarks/RESULTS.md")
    args = parser.parse_args()

    built = scenarios()
    results = []
    agree = {}
    for name in args.workloads.split(","):
        lock = measure(name, "lockstep", built[name], args.runs, args.seed, args.lockstep)
        peer = measure(name, "one-at-a-time", built[name], args.peer_runs, args.seed, 1)
        n = min(args.runs, args.peer_runs)
        agree[name] = lock[3].slice(0, n).equals(peer[3].slice(0, n))
        results += [lock, peer]

    cores = os.cpu_count() or 1
    lines = [
        "| workload | mode | workers | runs | wall s | runs/min | mean run wall s "
        "| mean run CPU s | CPU-bound ceiling runs/min | load avg 1/5/15 min (before -> after) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    verdicts = []
    for rows, efficiency, same, _ in results:
        for row in rows:
            ceiling = 60.0 * min(row["workers"], cores) / row["run_cpu_s"]
            lines.append(
                f"| {row['workload']} | {row['mode']} | {row['workers']} | {row['runs']} "
                f"| {row['wall_s']:.1f} | {row['rate']:.1f} | {row['run_wall_s']:.3f} "
                f"| {row['run_cpu_s']:.3f} | {ceiling:.1f} | {row['load']} |"
            )
        name, mode = rows[0]["workload"], rows[0]["mode"]
        rate2 = rows[1]["rate"]
        verdicts.append(
            f"* {name}, {mode}: parallel efficiency {efficiency:.0%} (target "
            f"{TARGET_EFFICIENCY:.0%}: {'met' if efficiency >= TARGET_EFFICIENCY else 'NOT met'})"
            f"; {rate2:.1f} runs/min on 2 workers (target {TARGET_RUNS_PER_MINUTE:.0f} for "
            f"single_hgv: {'met' if rate2 >= TARGET_RUNS_PER_MINUTE else 'NOT met'}); "
            f"tables identical for 1 and 2 workers: {same}."
        )
    for name, same in agree.items():
        lock_rate = next(r for r in results if r[0][0]["workload"] == name)[0][1]["rate"]
        peer_rate = next(r for r in results if r[0][0]["workload"] == name
                         and r[0][0]["mode"] == "one-at-a-time")[0][1]["rate"]
        verdicts.append(
            f"* {name}: lockstep {lock_rate / peer_rate:.1f}x the runs/min of one at a time "
            f"(2 workers); the runs both modes flew have identical rows: {same}."
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
            "per batch. Wall time includes the process pool's start-up; the CPU-bound ceiling "
            "is 60 x workers / mean CPU s per run, the rate an otherwise idle machine would "
            "allow. Efficiency = rate(2) / (2 x rate(1)).\n\n"
            f"{table}\n\n" + "\n".join(verdicts) + "\n"
        )
        with open(ROOT / "benchmarks" / "RESULTS.md", "a") as handle:
            handle.write(section)


if __name__ == "__main__":
    main()
