"""Central differences, the reference of the tests of analytic and numerical Jacobians."""

import numpy as np


def fd_jacobian(fun, x, steps):
    """Central differences of fun (N, n) -> (N, m), column by column: (N, m, n)."""
    cols = []
    for j, h in enumerate(steps):
        xp, xm = x.copy(), x.copy()
        xp[:, j] += h
        xm[:, j] -= h
        cols.append((fun(xp) - fun(xm)) / (2 * h))
    return np.stack(cols, axis=-1)
