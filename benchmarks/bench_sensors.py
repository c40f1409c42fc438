"""Sensor throughput: 100 threats x 10 sensors x 1,000 s of flight, vectorised.

One batched Trajectory of 100 glide vehicles (launched from points scattered around
38N 105E towards 26.2N 127.7E, launched at t = 0) is observed by ten
sensors: four S-band ship radars, two X-band ground radars, the 24-satellite LEO
infrared layer and three MQ-9 orbits (radar and EO/IR), each over [0, 1000] s with its
own look grid, through each sensor's batched ``observe``. Flying the threats is not
timed. Reports detections per second (true and false reports, all sensors) and the
wall time of the whole case (best of ``--repeats``), on one core (set
``OMP_NUM_THREADS=1`` etc. before NumPy starts; this script does).

    .venv/bin/python benchmarks/bench_sensors.py
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from hyperdef.sensors.airborne import AirborneIsr, Racetrack  # noqa: E402
from hyperdef.sensors.base import Reporting  # noqa: E402
from hyperdef.sensors.infrared import SpaceInfraredLayer  # noqa: E402
from hyperdef.sensors.orbits import KeplerConstellation, walker_delta  # noqa: E402
from hyperdef.sensors.radar import s_band_ship_radar, x_band_ground_radar  # noqa: E402
from hyperdef.threats import fly  # noqa: E402


def sensors() -> list:
    rep = lambda name, node="USA": Reporting(name, node, ("JPN",) if node == "USA" else ("USA",))  # noqa: E731
    out = [
        s_band_ship_radar(rep(f"ship-{i}", "JPN"), lat, lon)
        for i, (lat, lon) in enumerate([(27.6, 126.0), (25.8, 126.8), (29.0, 125.5), (24.5, 124.5)])
    ]
    out += [
        x_band_ground_radar(rep("tpy2-a"), 26.4, 127.8, 315.0),
        x_band_ground_radar(rep("tpy2-b"), 31.3, 130.5, 280.0),
    ]
    out.append(
        SpaceInfraredLayer(
            KeplerConstellation(walker_delta(24, 4, 1, math.radians(55.0), 1.0e6), j2=True),
            rep("leo-ir"),
        )
    )
    out += [
        AirborneIsr(
            Racetrack(math.radians(lat), math.radians(lon), heading_rad=0.5, leg_length_m=60e3),
            rep(f"mq9-{i}"),
        )
        for i, (lat, lon) in enumerate([(31.0, 128.8), (28.5, 125.0), (33.0, 127.0)])
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threats", type=int, default=100)
    parser.add_argument("--span", type=float, default=1000.0, help="observed span, s")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    b = args.threats
    launch = np.radians(
        np.column_stack([38.0 + rng.uniform(-1.5, 1.5, b), 105.0 + rng.uniform(-1.5, 1.5, b)])
    )
    aim = np.radians(
        np.column_stack([26.2 + rng.uniform(-0.3, 0.3, b), 127.7 + rng.uniform(-0.3, 0.3, b)])
    )
    t0 = time.perf_counter()
    traj = fly("hgv", launch, aim, t_launch_s=0.0)
    fly_s = time.perf_counter() - t0
    flight = traj.flight_time_s
    net = sensors()
    best, rows = math.inf, 0
    for _ in range(args.repeats):
        obs_rng = np.random.default_rng(args.seed)
        t0 = time.perf_counter()
        rows = sum(s.observe(traj, obs_rng, 0.0, args.span).num_rows for s in net)
        best = min(best, time.perf_counter() - t0)
    print(
        f"threats {b} (hgv, flight {flight.min():.0f}-{flight.max():.0f} s, flown in "
        f"{fly_s:.1f} s, not timed), sensors {len(net)}, span {args.span:.0f} s"
    )
    print(
        f"| bench_sensors | {b} threats x {len(net)} sensors x {args.span:.0f} s | "
        f"{rows:,} detections | {best:.2f} s wall (best of {args.repeats}) | "
        f"{rows / best:,.0f} detections/s | target < 5 s: {'met' if best < 5 else 'MISSED'} |"
    )


if __name__ == "__main__":
    main()
