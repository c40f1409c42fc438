"""Weapon-target assignment: which battery shoots at which threat.

Threats t = 1..T have values V_t; battery b holds n_b interceptors and kills threat t
with single-shot probability p_bt where it can engage it (``feasible``). Shots are
independent, so a threat engaged by shots S survives with prod (1 - p) and the expected
value destroyed is sum_t V_t (1 - prod_(s in S_t) (1 - p_s)) (the static WTA problem of
Manne 1958; survey: Kline, Ahner & Hill, Computers & OR 105, 2019).

* :func:`assign_one_shot`: at most one shot per threat, the exact optimum by the
  Hungarian method (``scipy.optimize.linear_sum_assignment``) on a matrix with one column
  per interceptor round.
* :func:`assign_greedy`: any number of shots per threat, the greedy maximum-marginal-
  return heuristic (each round goes where it adds the most expected value; optimal when
  every battery has the same p for a threat, den Broeder, Ellison & Emerling 1959).
* :func:`brute_force` enumerates every assignment of small instances (tests).

Rounds already in flight (committed at an earlier decision, not yet assessed) enter every
function as a prior survival probability ``survival`` per threat: a threat of value V
that k rounds of kill probability p are already flying at survives them with
s = (1 - p)^k, so it is worth only V s to the new rounds and a new round of kill
probability q adds V s q (Manne 1958: the value of a target under k rounds is
V (1 - p)^k; the same state variable carries the dynamic, shoot-look-shoot WTA of Hosein
& Athans 1990 from one decision stage to the next). ``survival = 1`` everywhere is the
static problem; a threat already assessed as killed has ``survival = 0``.

References
----------
.. [1] A. S. Manne, "A target-assignment problem", Operations Research 6(3), 1958.
.. [2] G. G. den Broeder, R. E. Ellison and L. Emerling, "On optimum target assignments",
   Operations Research 7(3), 1959 (maximum marginal return).
.. [3] A. Kline, D. Ahner and R. Hill, "The weapon-target assignment problem",
   Computers & Operations Research 105, 2019, doi:10.1016/j.cor.2018.10.015.
.. [4] P. A. Hosein and M. Athans, "Some analytical results for the dynamic weapon-target
   allocation problem", MIT Laboratory for Information and Decision Systems, LIDS-P-1944,
   1990 (shoot-look-shoot: the survivors of one stage are the targets of the next).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment

from hyperdef.errors import InputError


def _check(values, pk, feasible, inventory, survival=None):
    values = np.asarray(values, dtype=float)
    pk = np.asarray(pk, dtype=float)
    n_b, n_t = pk.shape if pk.ndim == 2 else (-1, -1)
    if pk.ndim != 2 or values.shape != (n_t,):
        raise InputError(f"pk: shape {pk.shape} must be (batteries, threats) with "
                         f"values of shape (threats,), got {values.shape}")
    if np.any(~np.isfinite(pk)) or np.any((pk < 0) | (pk > 1)):
        raise InputError("pk: kill probabilities must lie in [0, 1]")
    if np.any(~np.isfinite(values)) or np.any(values < 0):
        raise InputError("values: threat values must be finite and >= 0")
    feasible = (np.ones_like(pk, dtype=bool) if feasible is None
                else np.asarray(feasible, dtype=bool))
    if feasible.shape != pk.shape:
        raise InputError(f"feasible: shape {feasible.shape} must match pk {pk.shape}")
    inventory = np.asarray(inventory)
    if inventory.shape != (n_b,) or np.any(inventory < 0) or not np.issubdtype(
            inventory.dtype, np.integer):
        raise InputError(f"inventory: {inventory.tolist()} must be {n_b} integers >= 0")
    survival = (np.ones(n_t) if survival is None else np.asarray(survival, dtype=float))
    if survival.shape != (n_t,) or np.any(~np.isfinite(survival)) or np.any(
            (survival < 0) | (survival > 1)):
        raise InputError(f"survival: {survival.tolist()} must be {n_t} probabilities in "
                         "[0, 1]")
    return values, pk, feasible, inventory.astype(np.int64), survival


def expected_value(values, pk, shots, survival=None) -> float:
    """Expected value destroyed by a shot count matrix ``shots`` (B, T) of integers.

    With ``survival`` (T,), the prior survival of rounds already in flight, only the value
    the new shots add is counted: ``sum_t V_t s_t (1 - prod (1 - p)^shots)``.
    """
    survive = np.prod((1.0 - np.asarray(pk)) ** np.asarray(shots), axis=0)
    prior = 1.0 if survival is None else np.asarray(survival, dtype=float)
    return float(np.sum(np.asarray(values) * prior * (1.0 - survive)))


def assign_one_shot(values, pk, feasible=None, inventory=None, survival=None) -> np.ndarray:
    """Exact assignment with at most one shot per threat.

    Parameters
    ----------
    values : ndarray, shape (T,)
        Threat values, >= 0.
    pk : ndarray, shape (B, T)
        Single-shot kill probability of battery b against threat t.
    feasible : ndarray of bool, shape (B, T), optional
        Where battery b can engage threat t (launch window open, releasable track).
    inventory : ndarray of int, shape (B,), optional
        Rounds per battery (default: one per threat).
    survival : ndarray, shape (T,), optional
        Probability that each threat survives the rounds already in flight at it (module
        notes; default 1): the threat is worth ``values * survival`` to these rounds.

    Returns
    -------
    ndarray of int, shape (T,)
        Battery assigned to each threat, -1 for none.
    """
    pk = np.asarray(pk, dtype=float)
    if inventory is None:
        inventory = np.full(pk.shape[0], pk.shape[1] if pk.ndim == 2 else 0)
    values, pk, feasible, inventory, survival = _check(values, pk, feasible, inventory,
                                                       survival)
    n_b, n_t = pk.shape
    rounds = np.minimum(inventory, n_t)
    owner = np.repeat(np.arange(n_b), rounds)  # one column per usable round
    out = np.full(n_t, -1)
    if owner.size == 0 or n_t == 0:
        return out
    gain = np.where(feasible, (values * survival)[None, :] * pk, 0.0)[owner].T  # (T, rounds)
    rows, cols = linear_sum_assignment(-gain)
    take = gain[rows, cols] > 0.0
    out[rows[take]] = owner[cols[take]]
    return out


def assign_greedy(values, pk, feasible=None, inventory=None,
                  max_shots_per_threat: int = 2, survival=None) -> np.ndarray:
    """Greedy maximum-marginal-return assignment of every round.

    Parameters as :func:`assign_one_shot`; ``max_shots_per_threat`` caps the new rounds
    per threat (rounds in flight, counted in ``survival``, are not in the cap).

    Returns
    -------
    ndarray of int, shape (B, T)
        Rounds of battery b fired at threat t.
    """
    pk = np.asarray(pk, dtype=float)
    if inventory is None:
        inventory = np.full(pk.shape[0], pk.shape[1] if pk.ndim == 2 else 0)
    values, pk, feasible, inventory, survival = _check(values, pk, feasible, inventory,
                                                       survival)
    if max_shots_per_threat < 1:
        raise InputError(f"max_shots_per_threat: {max_shots_per_threat} must be >= 1")
    shots = np.zeros(pk.shape, dtype=np.int64)
    left = inventory.copy()
    survive = survival.copy()
    per_threat = np.zeros(pk.shape[1], dtype=np.int64)
    for _ in range(int(left.sum())):  # one round per pass (rounds, not targets)
        gain = values[None, :] * survive[None, :] * pk
        gain = np.where(feasible & (left[:, None] > 0)
                        & (per_threat[None, :] < max_shots_per_threat), gain, 0.0)
        b, t = np.unravel_index(np.argmax(gain), gain.shape)
        if gain[b, t] <= 0.0:
            break
        shots[b, t] += 1
        left[b] -= 1
        per_threat[t] += 1
        survive[t] *= 1.0 - pk[b, t]
    return shots


def brute_force(values, pk, feasible=None, inventory=None, max_shots_per_threat: int = 1,
                survival=None) -> tuple[float, np.ndarray]:
    """Best expected value over every assignment (small instances only: B*T <= 12).

    Returns
    -------
    (value, shots) : float and ndarray of int, shape (B, T)
    """
    pk = np.asarray(pk, dtype=float)
    if inventory is None:
        inventory = np.full(pk.shape[0], pk.shape[1])
    values, pk, feasible, inventory, survival = _check(values, pk, feasible, inventory,
                                                       survival)
    n_b, n_t = pk.shape
    if n_b * n_t > 12:
        raise InputError(f"brute_force: {n_b} x {n_t} is too large to enumerate (<= 12 cells)")
    best, best_shots = 0.0, np.zeros((n_b, n_t), dtype=np.int64)
    choices = range(max_shots_per_threat + 1)
    for flat in itertools.product(choices, repeat=n_b * n_t):
        shots = np.array(flat, dtype=np.int64).reshape(n_b, n_t)
        if (np.any(shots[~feasible] > 0) or np.any(shots.sum(axis=1) > inventory)
                or np.any(shots.sum(axis=0) > max_shots_per_threat)):
            continue
        value = expected_value(values, pk, shots, survival)
        if value > best + 1e-12:
            best, best_shots = value, shots
    return best, best_shots
