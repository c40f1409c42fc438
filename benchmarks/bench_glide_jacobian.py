"""Transition Jacobian of the trackers' glide and ballistic models: the analytic
(variational) Jacobian against forward differences of the same RK4 map.

* **analytic** (hyperdef): :meth:`hyperdef.tracking.models.Glide.predict`, the exact
  derivative of the RK4 map integrated with it
  (:func:`hyperdef.tracking.physics.rk4_propagate` with ``jacobian=True``).
* **forward differences** (the peer, how the models took ``F`` before): the same RK4 map
  propagated for the N nominal states and their n perturbed copies in one batch of
  (n + 1) N rows (``hyperdef.tracking.models._propagate_with_jacobian``), steps 3 cm,
  1 mm/s and 1e-6 in the parameters.

States: N glide states between 20 and 80 km, 2-6 km/s, flight-path angles within
+-10 deg (seeded). Printed per model, N and step: the median time per call of each
(``--repeats`` calls, alternating), the ratio, and the largest difference between the
two Jacobians, entries per km, per m/s and per 0.1 of a parameter relative to the largest
of their row.

Usage::

    python benchmarks/bench_glide_jacobian.py [--sizes 100,1000,3500,10000]
                                              [--dt 1,5] [--repeats 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import time

import numpy as np

from hyperdef.core.frames import lla_to_ecef
from hyperdef.tracking.models import Ballistic, Glide, _propagate_with_jacobian
from hyperdef.tracking.physics import rk4_propagate

#: forward-difference steps the models used: position 3 cm, velocity 1 mm/s, parameters 1e-6
FD_STEPS = {
    "glide": np.array([0.03] * 3 + [1e-3] * 3 + [1e-6] * 3),
    "ballistic": np.array([0.03] * 3 + [1e-3] * 3 + [1e-6]),
}


def states(n: int, dim: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lla = np.column_stack((rng.uniform(0.3, 0.6, n), rng.uniform(2.0, 2.4, n),
                           rng.uniform(20e3, 80e3, n)))
    r = lla_to_ecef(lla)
    up = r / np.linalg.norm(r, axis=1, keepdims=True)
    east = np.cross([0.0, 0.0, 1.0], up)
    east /= np.linalg.norm(east, axis=1, keepdims=True)
    gamma = rng.uniform(-0.17, 0.17, n)
    v = rng.uniform(2e3, 6e3, n)[:, None] * (np.cos(gamma)[:, None] * east
                                             + np.sin(gamma)[:, None] * up)
    params = np.column_stack((rng.uniform(8.5, 10.5, n), rng.uniform(1.0, 3.0, n),
                              rng.uniform(-0.8, 0.8, n)))
    return np.column_stack((r, v, params))[:, :dim]


def forward_differences(model, x, dt_s):
    lifting = isinstance(model, Glide)

    def propagate(y, h):
        return rk4_propagate(y, h, model.max_substep_s, lifting)[0]

    name = "glide" if lifting else "ballistic"
    return _propagate_with_jacobian(propagate, x, dt_s, FD_STEPS[name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,3500,10000")
    parser.add_argument("--dt", default="1,5")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print(f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or 'cpu'}"
          f", {os.cpu_count()} logical CPUs, Python {platform.python_version()}")
    print("| model | N | dt s | analytic ms | forward differences ms | speed-up "
          "| largest difference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for model in (Glide(), Ballistic()):
        for n in (int(s) for s in args.sizes.split(",")):
            x = states(n, model.dim)
            for step in (float(s) for s in args.dt.split(",")):
                dt_s = np.full(n, step)
                times = {"analytic": [], "fd": []}
                for _ in range(args.repeats):
                    for key, fun in (("analytic", model.predict),
                                     ("fd", lambda y, h, m=model: forward_differences(m, y, h))):
                        start = time.perf_counter()
                        fun(x, dt_s)
                        times[key].append(time.perf_counter() - start)
                out_a, f_a = model.predict(x, dt_s)
                out_f, f_f = forward_differences(model, x, dt_s)
                if not np.array_equal(out_a, out_f):
                    raise SystemExit("the two paths propagated different states")
                scale = np.array([1e3] * 3 + [1.0] * 3 + [0.1] * (model.dim - 6))
                norm = scale[None, None, :] / scale[None, :, None]
                diff = (np.abs(f_a - f_f) * norm
                        / (np.abs(f_a) * norm).max(axis=2, keepdims=True)).max()
                a_ms = 1e3 * statistics.median(times["analytic"])
                f_ms = 1e3 * statistics.median(times["fd"])
                print(f"| {type(model).__name__} | {n} | {step:g} | {a_ms:.2f} | {f_ms:.2f} "
                      f"| {f_ms / a_ms:.2f}x | {diff:.1e} |")


if __name__ == "__main__":
    main()
