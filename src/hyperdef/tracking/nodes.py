"""Coalition nodes: what each nation may receive, and one tracker per nation.

Every detection and track carries a releasability ``marking`` (DESIGN.md,
:mod:`hyperdef.core.markings`): ``REL TO USA, JPN`` releases the row to the United States
and Japan and to no one else. In a coalition each node (nation) runs its own tracker on
exactly the rows released to it; :func:`released_to` is the gate, and
:func:`run_node_trackers` runs the national trackers behind it.

Markings are parsed once per distinct string (a feed has a handful of distinct markings
and millions of rows); the row filter is a boolean mask indexed by the dictionary code
of each row, so the cost per row is one array lookup.

Bad input
    - A node that is not a coalition nation (:data:`hyperdef.core.markings.NODES`), or
      given twice: :class:`~hyperdef.errors.InputError` naming ``nodes[i]``.
    - A table without a ``marking`` column, or a row whose marking is null or does not
      parse: InputError naming the row (index in the input table) and the column
      ``marking``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hyperdef.core.markings import check_node, parse_marking
from hyperdef.errors import InputError
from hyperdef.tracking.tracker import TrackerConfig, TracksResult, run_tracker

__all__ = ["release_sets", "released_to", "run_node_trackers"]


def _encoded_markings(table: pa.Table, what: str) -> tuple[list[frozenset[str]], np.ndarray]:
    """Distinct parsed markings and each row's index into them (validated)."""
    if not isinstance(table, pa.Table):
        raise InputError(f"{what}: expected a pyarrow.Table, got {type(table).__name__}")
    if "marking" not in table.column_names:
        raise InputError(f"{what}: missing column 'marking'")
    column = table.column("marking")
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        raise InputError(f"{what}: column 'marking' must hold strings, got {column.type}")
    encoded = pc.dictionary_encode(column.combine_chunks())
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    nulls = np.asarray(encoded.indices.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if nulls.any():
        row = int(np.flatnonzero(nulls)[0])
        raise InputError(f"{what} row {row}, column marking: null; expected 'REL TO USA, JPN'")
    codes = np.asarray(codes, dtype=np.intp)
    sets: list[frozenset[str]] = []
    for k, value in enumerate(encoded.dictionary.to_pylist()):
        try:
            sets.append(parse_marking(value))
        except InputError as err:
            row = int(np.flatnonzero(codes == k)[0])
            raise InputError(f"{what} row {row}, column marking: {err}") from None
    return sets, codes


def release_sets(table: pa.Table) -> tuple[list[frozenset[str]], np.ndarray]:
    """Parse the ``marking`` column once per distinct value.

    Parameters
    ----------
    table : pyarrow.Table
        Any table with a string column ``marking`` (Detections, Tracks).

    Returns
    -------
    sets : list of frozenset of str
        Nations each distinct marking releases to.
    codes : ndarray of int, shape (n,)
        Index into ``sets`` of every row.

    Raises
    ------
    InputError
        For a missing column, or a null or unparsable marking (naming the row).
    """
    return _encoded_markings(table, "table")


def _mask(sets: list[frozenset[str]], codes: np.ndarray, node: str) -> np.ndarray:
    allowed = np.fromiter((node in s for s in sets), dtype=bool, count=len(sets))
    return allowed[codes] if codes.size else np.zeros(0, dtype=bool)


def released_to(table: pa.Table, node: str) -> pa.Table:
    """Rows of ``table`` whose marking releases them to ``node``.

    Parameters
    ----------
    table : pyarrow.Table
        Detections or Tracks table (any table with a ``marking`` column).
    node : str
        ISO 3166 trigraph of the receiving nation.

    Returns
    -------
    pyarrow.Table
        The same schema, the released rows in their input order.

    Raises
    ------
    InputError
        An unknown ``node``; a missing ``marking`` column; a null or unparsable marking
        (naming the row and the column ``marking``).
    """
    check_node(node, "node")
    sets, codes = _encoded_markings(table, "table")
    return table.filter(pa.array(_mask(sets, codes, node)))


def run_node_trackers(
    detections: pa.Table,
    nodes: Sequence[str],
    config: TrackerConfig = TrackerConfig(),  # noqa: B008 (frozen, immutable)
) -> dict[str, TracksResult]:
    """Run one tracker per nation, each on exactly the detections released to it.

    Parameters
    ----------
    detections : pyarrow.Table
        Detections table of the whole coalition (:mod:`hyperdef.sensors.detections`).
    nodes : sequence of str
        ISO 3166 trigraphs of the nations that run a tracker, each once.
    config : TrackerConfig
        Settings shared by every national tracker.

    Returns
    -------
    dict of str to TracksResult
        Per node, :func:`hyperdef.tracking.tracker.run_tracker` on
        ``released_to(detections, node)`` with ``node=node`` (a node that receives nothing
        gets an empty Tracks table).

    Raises
    ------
    InputError
        ``nodes[i]`` unknown or repeated; an unparsable marking (naming the row and the
        column ``marking``); anything :func:`run_tracker` rejects.
    """
    if isinstance(nodes, str) or not isinstance(nodes, Sequence):
        raise InputError(f"nodes: expected a list of ISO 3166 trigraphs, got {nodes!r}")
    if not nodes:
        raise InputError("nodes: needs at least one node")
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        check_node(node, f"nodes[{i}]")
        if node in seen:
            raise InputError(f"nodes[{i}]: {node!r} given twice")
        seen.add(node)
    if not isinstance(config, TrackerConfig):
        raise InputError(f"config: expected a TrackerConfig, got {type(config).__name__}")
    sets, codes = _encoded_markings(detections, "detections")
    return {
        node: run_tracker(detections.filter(pa.array(_mask(sets, codes, node))), config, node=node)
        for node in nodes
    }
