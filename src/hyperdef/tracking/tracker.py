"""Multi-target tracker: Detections table in, Tracks table out (DESIGN.md).

:func:`run_tracker` reads a Detections table (:mod:`hyperdef.sensors.detections`) and
returns a Tracks table with one row per track per scan it is alive in. It is a batched
tracker: every step of a scan works on all live tracks at once; the only Python loop on
the hot path is over scans (and over the rare multi-track gate clusters, see
:mod:`hyperdef.tracking.association`).

Scans and time order
    A scan is all the reports of one sensor at one measurement time ``t`` of one
    ``meas_type``. Reports are processed in measurement-time order (``t``, not
    ``t_report``), scans at the same time ordered by ``sensor_id`` and type. Input that is
    not sorted by ``t`` is sorted internally (stable) and counted
    (``counts['out_of_order_rows']``: rows whose ``t`` is earlier than the row before).

One scan
    1. All live tracks are predicted to the scan time (without partitions they always
       share one time).
    2. Gating: k-d-tree pre-gate, then the chi-square gate of probability
       ``gate_probability`` on the candidates, with the combined (IMM) estimate.
    3. Association: GNN (pair cost ``d2 + ln det S``, miss cost ``g + max ln det S`` of
       the track's pairs, so that a track always takes a gated report if it can and
       tracks compete by likelihood) or JPDA (marginals with ``detection_probability``
       and ``clutter_density``, exact for clusters up to the cap of
       :func:`hyperdef.tracking.association.jpda`).
    4. Update: GNN uses the configured filter's kernel (EKF, UKF, CKF) or the IMM; JPDA
       uses the EKF form of the PDA update with the spread-of-innovations term for each
       model (:func:`~hyperdef.tracking.association.jpda_update_ekf`), the IMM model
       likelihoods being the PDA likelihoods
       ``(1 - Pd Pg) + sum_j Pd N(nu_j; 0, S) / lambda`` ([BDH09]). With JPDA a track
       is "hit" (for M-of-N, misses and coasting) when the probability that one of the
       reports is its own, ``1 - beta_0``, is at least 1/2: a diffuse tentative track
       whose wide gate holds another target's report is not kept alive by it.
    5. Management: confirmation by M-of-N, deletion, initiation (below).
    6. Output rows for every live track, a last ``deleted`` row for each track deleted.

Track management
    *M-of-N*: a tentative track's scans are counted from the one that created it (that
    scan is a hit); it is confirmed at the first scan where its hits reach ``confirm_m``
    within its first ``confirm_n`` scans, and deleted as soon as that can no longer
    happen (hits + scans left < M). Scans count by instant, whatever the sensor: reports
    of several sensors at one time are one look (one hit, one scan of age, one miss), so
    a track is never confirmed before it has been seen at ``confirm_m`` distinct times.
    A two-point track starts with two hits in two scans.
    *Deletion* of any track: ``max_misses`` consecutive scans without an update, more
    than ``max_coast_s`` since its last update, or a position standard deviation
    ``sqrt(tr P_r)`` above ``max_position_sigma_m``. With sensors of different coverage,
    prefer ``max_coast_s`` and a large ``max_misses`` (a track outside a sensor's view
    misses every scan of it).
    *Initiation* from the reports of a scan that updated no track (GNN: unassigned;
    JPDA: in no track's gate), of type ``xyz``, ``rae`` or ``raer`` (``los`` reports update
    tracks but never start one):

    - ``'single'``: position from the report (converted to ECEF with its linearised
      covariance), velocity zero with standard deviation ``velocity_sigma_m_s`` per axis
      ([BLK] section 5.5.3, one-point initialisation with a velocity prior).
    - ``'two_point'``: the report is paired (GNN, cost ``(speed / max_speed)^2``) with a
      waiting unassociated report at most ``two_point_max_dt_s`` older whose implied
      speed is at most ``two_point_max_speed_m_s``; the velocity is the difference
      quotient, ``P_vv = (R1 + R2) / dt^2``, ``P_rv = R2 / dt`` ([BLK] section 5.5.3,
      two-point differencing). Unpaired reports wait for a partner.

    Extra states of a model start from :data:`hyperdef.tracking.models.DEFAULT_PRIORS`;
    IMM model probabilities start equal.

Track ids are integers from 0 in order of creation (within a scan, in report order),
never reused. Tracks still alive at the end have no ``deleted`` row.

Partitions
    ``partition=`` names an integer column (e.g. the Monte Carlo draw) of a table that
    holds many independent problems, tracked in one pass so that the per-scan overhead is
    paid once for all of them. Partitions never meet: a track gates against, is updated
    by and starts from reports of its own partition only (no GNN pair, JPDA cluster or
    two-point pair crosses), and a partition with no report in a scan does not see that
    scan (its tracks are not predicted, aged or checked for deletion; each track keeps
    its own time and the tracks are predicted once per distinct time step). Every
    reduction behind a decision (the pre-gate and two-point radii, the sensor position of
    a JPDA update) is taken per partition, so the rows of each partition are bit for bit
    those of :func:`run_tracker` on that partition's reports alone, in the same order,
    with track ids counted from 0 in each partition. The table carries the column
    (int64), rows sorted by partition, then as a run of that partition alone orders them;
    the counts are sums over the partitions (``scans``: scans of each partition). The k-d
    trees of a scan hold the partitions apart in a fourth coordinate; only rarer paths
    loop over partitions: a contested GNN assignment (tracks sharing reports; solved per
    partition, as a joint solve could break ties between equal costs differently), the
    tree of a partition with more reports in one scan than a tree leaf holds (it sets the
    order of the partition's pairs, hence of its JPDA sums) and a failed update.

Markings
    A track's marking is the intersection (:func:`hyperdef.core.markings.intersect_markings`)
    of the markings of every report that updated or started it (with JPDA, every report in
    its gate). When no nation is common to all of them the track is marked
    ``REL TO <node>``, releasable only to the tracker's own nation (the nation that holds
    the inputs may always read its own product).

Bad input
    - Missing columns: :class:`~hyperdef.errors.InputError` naming them.
    - ``meas_type`` not one of ``xyz, rae, raer, los``, a ``z`` or ``R`` list of the wrong
      length, an unparsable ``marking``: InputError naming the row (index in the input
      table) and the column.
    - Reports skipped and counted in ``counts['reports_skipped']``, by reason: a NaN or
      null in ``t`` (``nan_time``), in ``z`` (``nan_measurement``), in ``R``
      (``nan_covariance``), in the sensor state (``nan_sensor_state``), or an ``R`` that is
      not symmetric positive semi-definite (``non_psd_covariance``). One bad report in a
      long feed should not stop a run (STYLE 8); the counts show it.
    - Unsorted ``t``: sorted and counted (above).
    - A numerical failure of one track's update (a covariance that lost positive
      definiteness) coasts that track and is counted (``update_failures``); its report
      starts no track; the run goes on.
    The tracker returns its table in memory; :func:`write_tracks` writes it atomically.

``truth_id`` is never read for a tracking decision: it is only copied from the last
report that updated a track (with JPDA, the one of largest beta) to the output, for
evaluation.

References
----------
.. [BLK] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001, section 5.5.3 (one-point and two-point initialisation).
.. [BP99] S. Blackman, R. Popoli, *Design and Analysis of Modern Tracking Systems*, Artech
   House, 1999, ch. 3 and 6 (track initiation, M-of-N confirmation, deletion, GNN).
.. [BWT11] Y. Bar-Shalom, P. K. Willett, X. Tian, *Tracking and Data Fusion: A Handbook of
   Algorithms*, YBS Publishing, 2011, ch. 3 (M-of-N track formation logic).
.. [BDH09] Y. Bar-Shalom, F. Daum, J. Huang, "The probabilistic data association filter",
   IEEE Control Systems Magazine 29(6), 82-100 (2009), doi:10.1109/MCS.2009.934469.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.spatial import cKDTree
from scipy.stats import chi2

from hyperdef.core.markings import NODES, check_node, format_marking, parse_marking
from hyperdef.errors import InputError
from hyperdef.tracking.association import (
    chi2_gate,
    gnn,
    jpda,
    jpda_update_ekf,
    los_directions,
    los_pregate_pairs,
    pregate_pairs,
    pregate_radius,
)
from hyperdef.tracking.filters import FILTERS, _sym
from hyperdef.tracking.imm import IMM, IMMState, combined, imm_predict, imm_update
from hyperdef.tracking.measurements import (
    MEASUREMENT_MODELS,
    measurement_covariance_to_ecef,
    measurement_to_ecef,
)
from hyperdef.tracking.models import MODELS, embed

__all__ = [
    "REQUIRED_COLUMNS",
    "TRACKS_SCHEMA",
    "TRACKS_COLUMNS",
    "TrackerConfig",
    "TracksResult",
    "read_tracks",
    "run_tracker",
    "write_tracks",
]

_MEAS_DIM = {"xyz": 3, "rae": 3, "raer": 4, "los": 2}
_TYPES = ("xyz", "rae", "raer", "los")
_INITIATING = {"xyz", "rae", "raer"}
_MODEL_NAMES = ("cv", "ca", "singer", "ct", "ballistic", "glide", "imm")
_STATUS = np.array(["tentative", "confirmed", "deleted"], dtype=object)
_TENTATIVE, _CONFIRMED, _DELETED = 0, 1, 2
_NODE_BIT = {n: i for i, n in enumerate(sorted(NODES))}
_LOG_2PI = math.log(2.0 * math.pi)
_SENSOR_COLUMNS = ("sensor_x", "sensor_y", "sensor_z", "sensor_vx", "sensor_vy", "sensor_vz")
#: angular margin of the ``los`` pre-gate, rad
_LOS_MARGIN_RAD = 1e-3
#: points of a leaf of ``scipy.spatial.cKDTree`` (its default ``leafsize``): a ball query of
#: a tree of at most this many points returns them in increasing index order
_KDTREE_LEAF = 16
#: Detections columns the tracker needs (``truth_id`` is optional and only carried through).
REQUIRED_COLUMNS = ("t", "sensor_id", "node", "meas_type", "z", "R", *_SENSOR_COLUMNS, "marking")

TRACKS_SCHEMA = pa.schema(
    [
        pa.field("t", pa.float64(), metadata={"unit": "s"}),
        pa.field("track_id", pa.int64()),
        pa.field("node", pa.string()),
        pa.field("status", pa.string()),
        pa.field("x", pa.float64(), metadata={"unit": "m"}),
        pa.field("y", pa.float64(), metadata={"unit": "m"}),
        pa.field("z", pa.float64(), metadata={"unit": "m"}),
        pa.field("vx", pa.float64(), metadata={"unit": "m/s"}),
        pa.field("vy", pa.float64(), metadata={"unit": "m/s"}),
        pa.field("vz", pa.float64(), metadata={"unit": "m/s"}),
        pa.field("P", pa.list_(pa.float64()), metadata={"unit": "SI squared, 6x6 row-major"}),
        pa.field("model_probs", pa.list_(pa.float64())),
        pa.field("marking", pa.string()),
        pa.field("n_updates", pa.int64()),
        pa.field("truth_id", pa.int64()),
    ],
    metadata={"frame": "ECEF WGS-84", "time": "s from epoch"},
)
#: The columns DESIGN.md fixes for the Tracks table (``n_updates`` and ``truth_id`` are
#: extra evaluation columns).
TRACKS_COLUMNS: tuple[str, ...] = tuple(TRACKS_SCHEMA.names[:13])


# ----------------------------------------------------------------------------- config


def _num(obj, name, low=None, high=None, low_open=False, high_open=False, integer=False):
    value = getattr(obj, name)
    try:
        v = int(value) if integer else float(value)
        ok = math.isfinite(v) and (not integer or float(value) == v)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if ok and low is not None:
        ok = v > low if low_open else v >= low
    if ok and high is not None:
        ok = v < high if high_open else v <= high
    if not ok:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
        kind = "an integer" if integer else "a finite number"
        raise InputError(
            f"TrackerConfig.{name}: {value!r} must be {kind} {' and '.join(filter(None, (lo, hi)))}"
        )
    object.__setattr__(obj, name, v)


def _choice(obj, name, allowed):
    value = getattr(obj, name)
    if value not in allowed:
        raise InputError(
            f"TrackerConfig.{name}: {value!r} is not one of {', '.join(map(str, allowed))}"
        )


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """Settings of :func:`run_tracker` (module notes).

    Attributes
    ----------
    model : str
        Motion model: ``'cv'``, ``'ca'``, ``'singer'``, ``'ct'``, ``'ballistic'``,
        ``'glide'`` (the :data:`hyperdef.tracking.models.MODELS` defaults) or ``'imm'``.
    imm_models : tuple of str
        Models of the IMM (``model='imm'``), names of :data:`MODELS`.
    imm_transition : tuple of tuple of float, optional
        Markov transition matrix of the IMM; default 0.95 on the diagonal and the rest
        spread equally.
    filter : str
        ``'ekf'``, ``'ukf'`` or ``'ckf'`` (model-conditioned filter with GNN).
    association : str
        ``'gnn'`` or ``'jpda'``.
    gate_probability : float
        Chi-square gate probability, in (0, 1).
    confirm_m, confirm_n : int
        M-of-N confirmation, ``1 <= M <= N``.
    max_misses : int
        Consecutive scans without an update before deletion, >= 1.
    max_coast_s : float
        Time without an update before deletion, s, > 0.
    max_position_sigma_m : float
        Deletion when ``sqrt(tr P_r)`` exceeds it, m, > 0.
    initiation : str
        ``'single'`` or ``'two_point'``.
    velocity_sigma_m_s : float
        Per-axis velocity standard deviation of a one-point initiation, m/s, > 0
        (3 km/s suits hypersonic targets).
    two_point_max_dt_s : float
        Longest wait of a report for its two-point partner, s, > 0.
    two_point_max_speed_m_s : float
        Largest speed implied by a two-point pair, m/s, > 0.
    detection_probability : float
        Pd in (0, 1] (JPDA).
    clutter_density : float
        False reports per unit measurement volume (per m^3 for ``xyz``, per m rad^2 for
        ``rae``), > 0 (JPDA).
    jpda_max_tracks, jpda_max_detections, jpda_max_hypotheses : int
        Cap of exact JPDA enumeration (:func:`hyperdef.tracking.association.jpda`).
    pregate_margin_m : float
        Margin of the spatial pre-gate, m, >= 0.
    model_parameters : tuple of (model, parameter, value)
        Overrides of the default motion-model parameters, e.g.
        ``(("cv", "sigma_a_m_s2", 5.0),)``; each model validates its own values.

    Raises
    ------
    InputError
        Naming the field when a value is out of range or unknown.
    """

    model: str = "cv"
    imm_models: tuple[str, ...] = ("cv", "singer")
    imm_transition: tuple[tuple[float, ...], ...] | None = None
    filter: str = "ekf"
    association: str = "gnn"
    gate_probability: float = 0.999
    confirm_m: int = 3
    confirm_n: int = 5
    max_misses: int = 5
    max_coast_s: float = 60.0
    max_position_sigma_m: float = 50_000.0
    initiation: str = "single"
    velocity_sigma_m_s: float = 3000.0
    two_point_max_dt_s: float = 30.0
    two_point_max_speed_m_s: float = 8000.0
    detection_probability: float = 0.95
    clutter_density: float = 1e-12
    jpda_max_tracks: int = 8
    jpda_max_detections: int = 10
    jpda_max_hypotheses: int = 50_000
    pregate_margin_m: float = 100.0
    model_parameters: tuple[tuple[str, str, float], ...] = ()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None, field: str = "tracker",
                      **overrides: Any) -> TrackerConfig:
        """Settings from a plain mapping (a YAML or JSON document), then ``overrides``.

        Lists become tuples; ``model_parameters`` may also be given as
        ``{model: {parameter: value}}`` (e.g. ``{cv: {sigma_a_m_s2: 5}}``). Overrides
        that are None are ignored.

        Raises
        ------
        InputError
            Naming ``field.key`` for an unknown setting (listing the allowed ones), or
            ``field`` with the message of a bad value.
        """
        if settings is not None and not isinstance(settings, Mapping):
            raise InputError(f"{field}: expected a mapping of tracker settings, got "
                             f"{type(settings).__name__}")
        values = dict(settings or {})
        names = sorted(f.name for f in dataclasses.fields(cls))
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise InputError(f"{field}.{unknown[0]}: unknown tracker setting; allowed: "
                             f"{', '.join(names)}")
        params = values.get("model_parameters")
        if isinstance(params, Mapping):
            values["model_parameters"] = tuple(
                (name, key, value) for name, given in params.items()
                for key, value in (given or {}).items())
        for key in ("imm_models", "imm_transition", "model_parameters"):
            if isinstance(values.get(key), list):
                values[key] = tuple(tuple(v) if isinstance(v, list) else v
                                    for v in values[key])
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except InputError as exc:
            raise InputError(f"{field}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise InputError(f"{field}: {exc}") from None

    def __post_init__(self) -> None:
        _choice(self, "model", _MODEL_NAMES)
        params = tuple(tuple(p) for p in self.model_parameters)
        object.__setattr__(self, "model_parameters", params)
        for name in {p[0] for p in params}:
            if name not in MODELS:
                raise InputError(f"TrackerConfig.model_parameters: unknown model {name!r}; "
                                 f"allowed: {', '.join(MODELS)}")
            self.motion_model(name)
        imm_models = tuple(self.imm_models)
        if not imm_models:
            raise InputError("TrackerConfig.imm_models: needs at least one model")
        for k, name in enumerate(imm_models):
            if name not in MODELS:
                raise InputError(
                    f"TrackerConfig.imm_models[{k}]: {name!r} is not one of {', '.join(MODELS)}"
                )
        object.__setattr__(self, "imm_models", imm_models)
        _choice(self, "filter", tuple(FILTERS))
        _choice(self, "association", ("gnn", "jpda"))
        _choice(self, "initiation", ("single", "two_point"))
        _num(self, "gate_probability", 0.0, 1.0, low_open=True, high_open=True)
        _num(self, "confirm_m", 1, integer=True)
        _num(self, "confirm_n", 1, integer=True)
        if self.confirm_m > self.confirm_n:
            raise InputError(
                f"TrackerConfig.confirm_m: {self.confirm_m} must not exceed confirm_n "
                f"({self.confirm_n})"
            )
        _num(self, "max_misses", 1, integer=True)
        for name in (
            "max_coast_s",
            "max_position_sigma_m",
            "velocity_sigma_m_s",
            "two_point_max_dt_s",
            "two_point_max_speed_m_s",
            "clutter_density",
        ):
            _num(self, name, 0.0, low_open=True)
        _num(self, "detection_probability", 0.0, 1.0, low_open=True)
        for name in ("jpda_max_tracks", "jpda_max_detections", "jpda_max_hypotheses"):
            _num(self, name, 1, integer=True)
        _num(self, "pregate_margin_m", 0.0)
        if self.imm_transition is not None:
            try:
                T = np.array(self.imm_transition, dtype=float)
            except (TypeError, ValueError):
                raise InputError("TrackerConfig.imm_transition: must be a square matrix") from None
            try:
                IMM(tuple(self.motion_model(n) for n in imm_models), T, self.filter)
            except InputError as err:
                raise InputError(f"TrackerConfig.imm_{err}") from None
            object.__setattr__(
                self, "imm_transition", tuple(tuple(float(v) for v in row) for row in T)
            )

    def motion_model(self, name: str):
        """Motion model ``name`` with the overrides of :attr:`model_parameters` applied."""
        changes = {param: value for model, param, value in self.model_parameters
                   if model == name}
        try:
            return dataclasses.replace(MODELS[name], **changes)
        except TypeError:
            fields = ", ".join(f.name for f in dataclasses.fields(MODELS[name]))
            raise InputError(f"TrackerConfig.model_parameters: {name} has parameters "
                             f"{fields}; got {', '.join(changes)}") from None

    def imm(self) -> IMM:
        """The :class:`~hyperdef.tracking.imm.IMM` of ``model='imm'``."""
        models = tuple(self.motion_model(n) for n in self.imm_models)
        m = len(models)
        if self.imm_transition is None:
            T = np.full((m, m), 0.05 / max(m - 1, 1)) if m > 1 else np.ones((1, 1))
            np.fill_diagonal(T, 0.95 if m > 1 else 1.0)
        else:
            T = np.array(self.imm_transition)
        return IMM(models, T, self.filter)


@dataclass(frozen=True, slots=True)
class TracksResult:
    """What :func:`run_tracker` returns.

    Attributes
    ----------
    table : pyarrow.Table
        The Tracks table (:data:`TRACKS_SCHEMA`).
    counts : dict
        ``reports`` (rows in), ``scans``, ``reports_used`` (updated or started a track),
        ``reports_skipped`` (dict reason -> count), ``out_of_order_rows``,
        ``tracks_created``, ``tracks_confirmed``, ``tracks_deleted``,
        ``jpda_exact_clusters``, ``jpda_fallback_clusters``, ``update_failures``.
    """

    table: pa.Table
    counts: dict = field(default_factory=dict)


# ------------------------------------------------------------------------ input


@dataclass(slots=True)
class _Input:
    t: np.ndarray
    type_code: np.ndarray
    z: np.ndarray  # (n, 4) padded
    R: np.ndarray  # (n, 4, 4) padded
    sr: np.ndarray
    sv: np.ndarray
    pos: np.ndarray  # (n, 3), NaN for los
    pos_cov: np.ndarray  # (n, 3, 3)
    mask: np.ndarray  # int64 marking bits
    truth: np.ndarray
    scans: list  # (start, stop) into the sorted order
    order: np.ndarray  # sorted valid rows
    part: np.ndarray  # partition code of every row (0 without partitions)
    part_values: np.ndarray | None = None  # partition value of each code; None: no partitions
    part_scans: int = 0  # scans of each partition, summed
    part_name: str | None = None  # the partition column


def _row_error(row: int, column: str, message: str) -> InputError:
    return InputError(f"detections row {row}, column {column}: {message}")


def _value_codes(table: pa.Table, name: str) -> tuple[list, np.ndarray]:
    """Distinct values of a column and the index of every row's value among them.

    Returns
    -------
    values : list
        The distinct values as Python objects (None for null), in order of first row.
    codes : ndarray of int64, shape (n,)
        ``values[codes[i]]`` is row i's value, so that each distinct value (a handful of
        sensor ids, types or markings) is looked at once, not once per row.
    """
    col = table.column(name)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    distinct = col.unique()
    codes = pc.index_in(col, value_set=distinct)  # a null row finds the null value
    return distinct.to_pylist(), np.asarray(codes.to_numpy(zero_copy_only=False), np.int64)


def _list_column(table: pa.Table, name: str, width: np.ndarray, type_code: np.ndarray,
                 size: int) -> tuple[np.ndarray, np.ndarray]:
    """A list column as a float array (n, size): row i's ``width[i]`` values, then NaN.

    Rows that are null are all NaN (``valid`` False). When every row holds the same number
    of values (one measurement type, no null) the values are read as one block, without
    the per-element gather of the general case.

    Raises
    ------
    InputError
        A row whose list does not have its type's ``width`` values, naming it.
    """
    col = table.column(name)
    n = table.num_rows
    valid = ~np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    lengths = np.asarray(pc.list_value_length(col).fill_null(0).to_numpy(zero_copy_only=False),
                         dtype=np.int64)
    bad = np.flatnonzero(valid & (lengths != width))
    if bad.size:
        i = int(bad[0])
        raise _row_error(
            i, name, f"{_TYPES[type_code[i]]!r} needs {width[i]} values, got {int(lengths[i])}"
        )
    if n and valid.all() and np.all(width == width[0]):
        w = int(width[0])
        values = np.asarray(pc.list_flatten(col).to_numpy(zero_copy_only=False), dtype=float)
        if w == size:
            return values.reshape(n, size), valid
        out = np.full((n, size), np.nan)
        out[:, :w] = values.reshape(n, w)
        return out, valid
    out = np.full((n, size), np.nan)
    if n:
        chunk = col.combine_chunks()
        offsets = chunk.offsets.to_numpy()
        values = np.asarray(chunk.values.to_numpy(zero_copy_only=False), dtype=float)
        k = np.arange(size)
        take = valid[:, None] & (k[None, :] < width[:, None])
        idx = offsets[:-1, None] + k[None, :]
        out[take] = values[idx[take]]
    return out, valid


def _partition_codes(table: pa.Table, partition: object) -> tuple[np.ndarray, np.ndarray]:
    """Code of every row (0, 1, ... in increasing value) and the value of each code."""
    allowed = "an integer column of the detections (e.g. the Monte Carlo draw) not named " \
        "like a column of the Tracks table"
    if not isinstance(partition, str):
        raise InputError(f"partition: expected a column name, got {type(partition).__name__};"
                         f" allowed: {allowed}")
    if partition not in table.column_names:
        raise InputError(f"partition: no column {partition!r} in the detections; allowed: "
                         f"{allowed}")
    if partition in TRACKS_SCHEMA.names:
        raise InputError(f"partition: {partition!r} is a column of the Tracks table; allowed: "
                         f"{allowed}")
    col = table.column(partition)
    if not pa.types.is_integer(col.type):
        raise InputError(f"partition: column {partition!r} has type {col.type}; allowed: "
                         f"{allowed} (int8 ... int64, uint8 ... uint64)")
    if col.null_count:
        raise InputError(f"partition: column {partition!r} has {col.null_count} null values; "
                         "every report needs a partition")
    try:
        values = np.asarray(col.cast(pa.int64()).to_numpy(), dtype=np.int64)
    except pa.ArrowInvalid:
        raise InputError(f"partition: column {partition!r} has values beyond int64") from None
    part_values, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64).reshape(-1), part_values


def _psd_check(Rk: np.ndarray) -> np.ndarray:
    """Rows of a batch of covariances (k, m, m) that are not symmetric positive
    semi-definite: asymmetric beyond 1e-9 of their largest entry, or with an eigenvalue
    below -1e-12 of it.

    A diagonal matrix with no negative entry passes outright (radar covariances are
    diagonal): it is symmetric, its eigenvalues are its diagonal, and LAPACK's, exact to a
    few ulps of the largest entry, are nowhere near -1e-12 of it, so the test below
    would pass it too. Only the other rows are given to ``eigvalsh``.
    """
    k, m = Rk.shape[0], Rk.shape[1]
    flat = Rk.reshape(k, m * m)
    diagonal = flat[:, np.arange(m) * (m + 1)]
    # no nonzero entry off the diagonal, none negative on it
    easy = ((np.count_nonzero(flat, axis=1) == np.count_nonzero(diagonal, axis=1))
            & (diagonal.min(axis=1) >= 0.0))
    hard = np.flatnonzero(~easy)
    bad = np.zeros(k, dtype=bool)
    if hard.size:
        Rh = Rk[hard]
        scale = np.maximum(np.abs(Rh).max(axis=(1, 2)), np.finfo(float).tiny)
        asym = np.abs(Rh - np.swapaxes(Rh, 1, 2)).max(axis=(1, 2)) > 1e-9 * scale
        eig = np.linalg.eigvalsh(_sym(Rh))[:, 0]
        bad[hard] = asym | (eig < -1e-12 * scale)
    return bad


def _prepare(table: pa.Table, skipped: dict, partition: str | None = None) -> tuple[_Input, int]:
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"detections: missing columns {', '.join(missing)}")
    n = table.num_rows
    part_values = None
    part = np.zeros(n, dtype=np.int64)
    if partition is not None:
        part, part_values = _partition_codes(table, partition)
    t = np.asarray(table.column("t").to_numpy(zero_copy_only=False), dtype=float)
    # string columns through their few distinct values (no Python object per row)
    type_values, codes = _value_codes(table, "meas_type")
    known = np.array([_TYPES.index(v) if v in _TYPES else -1 for v in type_values], np.int64)
    type_code = known[codes] if n else np.zeros(0, dtype=np.int64)
    bad = np.flatnonzero(type_code < 0)
    if bad.size:
        i = int(bad[0])
        raise _row_error(i, "meas_type",
                         f"{type_values[codes[i]]!r} unknown; allowed: {', '.join(_TYPES)}")
    dims = np.array([_MEAS_DIM[k] for k in _TYPES])[type_code]
    z, z_valid = _list_column(table, "z", dims, type_code, 4)
    Rf, R_valid = _list_column(table, "R", dims * dims, type_code, 16)

    def stacked(columns: tuple[str, ...]) -> np.ndarray:
        if not n:
            return np.zeros((0, len(columns)))
        return np.column_stack([np.asarray(table.column(c).to_numpy(zero_copy_only=False),
                                           float) for c in columns])

    sr, sv = stacked(_SENSOR_COLUMNS[:3]), stacked(_SENSOR_COLUMNS[3:])
    # markings -> bit masks, parsed once per distinct string (in order of first row)
    mark_values, codes = _value_codes(table, "marking")
    bits = np.zeros(len(mark_values), dtype=np.int64)
    for k, value in enumerate(mark_values):  # a handful of distinct markings
        try:
            nations = parse_marking(value)
        except InputError as err:
            raise _row_error(int(np.argmax(codes == k)), "marking", str(err)) from None
        bits[k] = sum(1 << _NODE_BIT[nat] for nat in nations)
    mask = bits[codes] if n else np.zeros(0, dtype=np.int64)
    truth = np.full(n, -1, dtype=np.int64)
    if "truth_id" in table.column_names:
        truth = np.asarray(
            table.column("truth_id").fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64
        )
    # reports skipped, by reason (first reason only)
    ok = np.ones(n, dtype=bool)
    z_used = np.arange(4)[None, :] < dims[:, None]
    R_used = np.arange(16)[None, :] < (dims * dims)[:, None]
    for reason, bad_rows in (
        ("nan_time", ~np.isfinite(t)),
        ("nan_measurement", ~z_valid | np.any(z_used & ~np.isfinite(z), axis=1)),
        ("nan_covariance", ~R_valid | np.any(R_used & ~np.isfinite(Rf), axis=1)),
        ("nan_sensor_state", ~(np.all(np.isfinite(sr), axis=1) & np.all(np.isfinite(sv), axis=1))),
    ):
        new = bad_rows & ok
        if np.any(new):
            skipped[reason] = skipped.get(reason, 0) + int(new.sum())
        ok &= ~bad_rows
    # rows of each type still in (all of them in one block: one type, nothing skipped)
    type_rows = [np.flatnonzero(ok & (type_code == k)) for k in range(len(_TYPES))]
    R = None
    for k, name in enumerate(_TYPES):
        m = _MEAS_DIM[name]
        rows = type_rows[k]
        if rows.size == 0:
            continue
        Rk = (Rf if rows.size == n else Rf[rows])[:, : m * m].reshape(-1, m, m)
        bad_rows = _psd_check(Rk)
        if np.any(bad_rows):
            skipped["non_psd_covariance"] = skipped.get("non_psd_covariance", 0) + int(
                bad_rows.sum()
            )
            ok[rows[bad_rows]] = False
            type_rows[k] = rows[~bad_rows]
            Rk = Rk[~bad_rows]
        sym = np.add(Rk, np.swapaxes(Rk, 1, 2))  # _sym(Rk), with one temporary
        sym *= 0.5
        if type_rows[k].size == n and m == 4:
            R = sym
        else:
            R = np.zeros((n, 4, 4)) if R is None else R
            R[type_rows[k], :m, :m] = sym
    R = np.zeros((n, 4, 4)) if R is None else R
    # conversions for pre-gate and initiation, once per type
    pos = pos_cov = None
    for k, name in enumerate(_TYPES):
        rows = type_rows[k]
        if rows.size == 0 or name == "los":
            continue
        m = _MEAS_DIM[name]
        if rows.size == n:  # every row: the same (contiguous) arrays as a gather of all
            z_k, R_k, sr_k = (np.ascontiguousarray(z[:, :m]), np.ascontiguousarray(R[:, :m, :m]),
                              sr)
        else:
            z_k, R_k, sr_k = z[rows, :m], R[rows, :m, :m], sr[rows]
        pos_k = measurement_to_ecef(name, z_k, sr_k)
        cov_k = measurement_covariance_to_ecef(z_k, R_k, sr_k, name)
        if rows.size == n:
            pos, pos_cov = pos_k, cov_k
            break
        if pos is None:
            pos, pos_cov = np.full((n, 3), np.nan), np.full((n, 3, 3), np.nan)
        pos[rows] = pos_k
        pos_cov[rows] = cov_k
    if pos is None:
        pos, pos_cov = np.full((n, 3), np.nan), np.full((n, 3, 3), np.nan)
    valid = np.flatnonzero(ok)
    tv = t[valid]
    # scans sort by sensor_id as text (numpy's order of str(value)); one integer key for
    # (sensor, type, partition) in that order of precedence
    sensor_values, sensor_code = _value_codes(table, "sensor_id")
    text = [str(v) for v in sensor_values]
    rank = {s: r for r, s in enumerate(sorted(set(text)))}
    sensor_rank = np.array([rank[s] for s in text], dtype=np.int64)[sensor_code[valid]]
    key = sensor_rank * len(_TYPES) + type_code[valid]
    if part_values is None:
        out_of_order = int(np.count_nonzero(np.diff(tv) < 0))
        order = valid[np.lexsort((key, tv))]
    else:
        # each partition's rows keep their order: counted as if each were alone, and
        # sorted by scan, then partition (a scan's rows of one partition stay together)
        pv = part[valid]
        by_part = np.argsort(pv, kind="stable")
        same = pv[by_part][1:] == pv[by_part][:-1]
        out_of_order = int(np.count_nonzero((np.diff(tv[by_part]) < 0) & same))
        order = valid[np.lexsort((key * len(part_values) + pv, tv))]
    scans = []
    part_scans = 0
    if order.size:
        key_t, key_s, key_k = t[order], sensor_code[order], type_code[order]
        change = (key_t[1:] != key_t[:-1]) | (key_s[1:] != key_s[:-1]) | (key_k[1:] != key_k[:-1])
        cuts = np.concatenate(([0], np.flatnonzero(change) + 1, [order.size]))
        scans = list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))
        key_p = part[order]
        part_scans = int(np.count_nonzero(change | (key_p[1:] != key_p[:-1]))) + 1
    inp = _Input(
        t,
        type_code,
        z,
        R,
        sr,
        sv,
        pos,
        pos_cov,
        mask,
        truth,
        scans,
        order,
        part,
        part_values,
        part_scans,
        partition,
    )
    return inp, out_of_order


# ---------------------------------------------------------------------------- state


class _Tracks:
    """Live tracks as arrays (internal, mutated scan by scan)."""

    def __init__(self, dims: list[int], n_models: int) -> None:
        self.x = [np.zeros((0, d)) for d in dims]
        self.P = [np.zeros((0, d, d)) for d in dims]
        self.mu = np.zeros((0, n_models))
        self.ids = np.zeros(0, dtype=np.int64)
        self.status = np.zeros(0, dtype=np.int8)
        self.hits = np.zeros(0, dtype=np.int64)
        self.age = np.zeros(0, dtype=np.int64)
        self.misses = np.zeros(0, dtype=np.int64)
        self.t_update = np.zeros(0)
        self.t_scan = np.zeros(0)
        self.n_updates = np.zeros(0, dtype=np.int64)
        self.mask = np.zeros(0, dtype=np.int64)
        self.truth = np.zeros(0, dtype=np.int64)
        self.part = np.zeros(0, dtype=np.int64)  # partition code
        self.t_now = np.zeros(0)  # time of the state, s

    _FIELDS = (
        "mu",
        "ids",
        "status",
        "hits",
        "age",
        "misses",
        "t_update",
        "t_scan",
        "n_updates",
        "mask",
        "truth",
        "part",
        "t_now",
    )

    def keep(self, sel: np.ndarray) -> None:
        self.x = [a[sel] for a in self.x]
        self.P = [a[sel] for a in self.P]
        for name in self._FIELDS:
            setattr(self, name, getattr(self, name)[sel])

    def take(self, sel: np.ndarray) -> _Tracks:
        """A new table of the tracks ``sel``."""
        out = object.__new__(_Tracks)
        out.x = [a[sel] for a in self.x]
        out.P = [a[sel] for a in self.P]
        for name in self._FIELDS:
            setattr(out, name, getattr(self, name)[sel])
        return out

    def extend(self, other: _Tracks) -> None:
        """Append the tracks of ``other`` after these."""
        self.append({"x": other.x, "P": other.P,
                     **{name: getattr(other, name) for name in self._FIELDS}})

    def append(self, other: dict) -> None:
        self.x = [np.concatenate((a, b)) for a, b in zip(self.x, other["x"], strict=True)]
        self.P = [np.concatenate((a, b)) for a, b in zip(self.P, other["P"], strict=True)]
        for name in self._FIELDS:
            setattr(self, name, np.concatenate((getattr(self, name), other[name])))

    @property
    def n(self) -> int:
        return self.ids.size


# ---------------------------------------------------------------------------- tracker


class _Run:
    """One run of the tracker (internal; all state lives here for the run's duration).

    With partitions (``inp.part_values`` set) the live tracks of every partition share
    the arrays of :attr:`tracks`; :meth:`scan` sets aside the tracks (and two-point
    reports) of the partitions that have no report in the scan, runs the scan on the
    others and puts them back after, so that only the partitions in a scan see it.
    """

    def __init__(self, cfg: TrackerConfig, node: str, inp: _Input,
                 covariances: bool = True, rows: str = "all") -> None:
        self.cfg = cfg
        self._input = inp
        self.node = node
        self.covariances = covariances  # P written to the output rows
        self.summary_rows = rows == "summary"  # only the rows summaries and fire control read
        self.flt = FILTERS[cfg.filter]
        if cfg.model == "imm":
            self.imm = cfg.imm()
            self.models = list(self.imm.models)
            self.model_names = list(cfg.imm_models)
        else:
            self.imm = None
            self.models = [cfg.motion_model(cfg.model)]
            self.model_names = [cfg.model]
        # one partition is the run without partitions (plus the column in the table)
        self.partitioned = inp.part_values is not None and len(inp.part_values) > 1
        self.n_parts = len(inp.part_values) if self.partitioned else 1
        self.tracks = _Tracks([int(m.dim) for m in self.models], len(self.models))
        self.t_now = -np.inf  # time of the last scan, s
        self.next_id = np.zeros(self.n_parts, dtype=np.int64)  # per partition
        self.rows: list[tuple] = []
        self.counts = {
            "reports_used": 0,
            "tracks_created": 0,
            "tracks_confirmed": 0,
            "tracks_deleted": 0,
            "jpda_exact_clusters": 0,
            "jpda_fallback_clusters": 0,
            "update_failures": 0,
        }
        self.pending = None  # two-point: dict of arrays of waiting reports
        self.gamma = {k: float(chi2.ppf(cfg.gate_probability, m)) for k, m in _MEAS_DIM.items()}

    # -------------------------------------------------------------- estimates

    def _combined(self) -> tuple[np.ndarray, np.ndarray]:
        tr = self.tracks
        if self.imm is None:
            return tr.x[0][:, :6], tr.P[0][:, :6, :6]
        return combined(IMMState(tuple(tr.x), tuple(tr.P), tr.mu))

    def _combined_again(self, x6, P6, touched):
        """:meth:`_combined` after this scan's updates, from the one taken before them:
        only the ``touched`` tracks (None: none) are combined again. The combination is
        row by row, so the rows are the same to the bit as combining all tracks anew."""
        if self.imm is None:
            return self._combined()
        if touched is not None:
            tr = self.tracks
            st = IMMState(tuple(x[touched] for x in tr.x), tuple(P[touched] for P in tr.P),
                          tr.mu[touched])
            x6[touched], P6[touched] = combined(st)
        return x6, P6

    def _predict(self, t: float) -> None:
        """Every live track to ``t``, once per distinct step (tracks keep their own time)."""
        tr = self.tracks
        self.t_now = t
        if tr.n == 0:
            return
        dt = t - tr.t_now
        tr.t_now = np.full(tr.n, t)
        lo, hi = float(dt.min()), float(dt.max())
        if lo == hi:  # one step for all (always without partitions)
            if lo != 0.0:
                self._predict_rows(None, lo)
            return
        for step in np.unique(dt).tolist():  # partitions last seen at different times
            if step != 0.0:
                self._predict_rows(np.flatnonzero(dt == step), step)

    def _predict_rows(self, idx: np.ndarray | None, dt: float) -> None:
        """Predict the tracks ``idx`` (None: all) by ``dt`` s."""
        tr = self.tracks
        if idx is None:
            if self.imm is None:
                tr.x[0], tr.P[0] = self.flt.predict_kernel(tr.x[0], tr.P[0], self.models[0], dt)
            else:
                st = imm_predict(IMMState(tuple(tr.x), tuple(tr.P), tr.mu), self.imm, dt)
                tr.x, tr.P, tr.mu = list(st.x), list(st.P), st.probabilities
            return
        if self.imm is None:
            x, P = self.flt.predict_kernel(tr.x[0][idx], tr.P[0][idx], self.models[0], dt)
            tr.x[0][idx] = x
            tr.P[0][idx] = P
        else:
            st = IMMState(tuple(x[idx] for x in tr.x), tuple(P[idx] for P in tr.P), tr.mu[idx])
            st = imm_predict(st, self.imm, dt)
            for j in range(len(self.models)):
                tr.x[j][idx] = st.x[j]
                tr.P[j][idx] = st.P[j]
            tr.mu[idx] = st.probabilities

    # -------------------------------------------------------------- pre-gate

    def _candidates_alone(self, x6, P6, rows, type_name, gamma):
        """Pre-gate pairs of tracks (x6, P6) and reports ``rows`` of one partition."""
        cfg = self.cfg
        inp = self._input
        if type_name == "los":
            radius = pregate_radius(P6[:, :3, :3], np.zeros((0, 3, 3)), gamma, cfg.pregate_margin_m)
            return los_pregate_pairs(
                x6[:, :3], radius, inp.z[rows, :2], inp.R[rows, :2, :2], inp.sr[rows], gamma,
                _LOS_MARGIN_RAD,
            )
        radius = pregate_radius(P6[:, :3, :3], inp.pos_cov[rows], gamma, cfg.pregate_margin_m)
        return pregate_pairs(x6[:, :3], radius, inp.pos[rows])

    def _candidates_parts(self, x6, P6, rows, type_name, gamma, dpart):
        """Pre-gate pairs of the tracks and reports of several partitions, none crossing.

        The arithmetic of :func:`pregate_radius` and :func:`los_pregate_pairs` with each
        maximum over the reports taken per partition. The pairs are grouped by track, each
        track's in the order its partition alone gives them: increasing report index while
        the partition's reports fit in one k-d tree leaf, else from its own tree.
        """
        cfg = self.cfg
        inp = self._input
        tr = self.tracks
        n_det = rows.size
        starts = np.flatnonzero(np.r_[True, dpart[1:] != dpart[:-1]])  # rows grouped by part
        sizes = np.diff(np.r_[starts, n_det])
        seg_of_code = np.full(self.n_parts, -1, dtype=np.intp)
        seg_of_code[dpart[starts]] = np.arange(starts.size)
        tseg = seg_of_code[tr.part]
        dseg = np.repeat(np.arange(starts.size), sizes)
        tr_p = np.maximum(np.trace(P6[:, :3, :3], axis1=-2, axis2=-1), 0.0)
        if type_name == "los":
            R = inp.R[rows, :2, :2]
            sr = inp.sr[rows]
            radius = np.sqrt(gamma * tr_p) + 0.0 + cfg.pregate_margin_m  # no report term
            d = x6[:, :3] - sr[starts][tseg]  # seen from the partition's first report
            rng = np.maximum(np.linalg.norm(d, axis=1), 1.0)
            tr_r = np.maximum.reduceat(np.trace(R, axis1=-2, axis2=-1), starts)
            ang = radius / rng + np.sqrt(gamma * np.maximum(tr_r, 0.0))[tseg] + _LOS_MARGIN_RAD
            ti, di = _pairs_apart(
                d / rng[:, None], np.minimum(ang, 2.0), los_directions(inp.z[rows, :2], sr),
                tseg, dseg,
            )
        else:
            tr_r = np.fmax.reduceat(np.trace(inp.pos_cov[rows], axis1=-2, axis2=-1), starts)
            det_part = np.sqrt(gamma * np.maximum(tr_r, 0.0))
            radius = np.sqrt(gamma * tr_p) + det_part[tseg] + cfg.pregate_margin_m
            ti, di = _pairs_apart(x6[:, :3], radius, inp.pos[rows], tseg, dseg)
        big = np.flatnonzero(sizes > _KDTREE_LEAF)
        if big.size:  # rare: a partition with more reports than a tree leaf
            keep = ~np.isin(tseg[ti], big)
            t_all, d_all = [ti[keep]], [di[keep]]
            for s in big.tolist():
                t_sel = np.flatnonzero(tseg == s)
                d_sel = np.arange(starts[s], starts[s] + sizes[s])
                a, b = self._candidates_alone(x6[t_sel], P6[t_sel], rows[d_sel], type_name, gamma)
                t_all.append(t_sel[a])
                d_all.append(d_sel[b])
            ti, di = np.concatenate(t_all), np.concatenate(d_all)
            by_track = np.argsort(ti, kind="stable")
            ti, di = ti[by_track], di[by_track]
        return ti, di

    # -------------------------------------------------------------- association

    def _gnn(self, track, detection, cost, n_tracks, n_dets, miss, pair_part):
        """:func:`gnn`, each partition's contested pairs solved apart (``pair_part``)."""
        if pair_part is None:
            return gnn(track, detection, cost, n_tracks, n_dets, miss)
        deg_t = np.bincount(track, minlength=n_tracks)
        deg_d = np.bincount(detection, minlength=n_dets)
        single = (deg_t[track] == 1) & (deg_d[detection] == 1)
        if single.all():
            return gnn(track, detection, cost, n_tracks, n_dets, miss)
        out = gnn(track[single], detection[single], cost[single], n_tracks, n_dets, miss)
        rest = np.flatnonzero(~single)
        # one assignment problem per partition, exactly the one it solves alone (a joint
        # solve could break ties between equal costs differently)
        for p in np.unique(pair_part[rest]).tolist():
            sel = rest[pair_part[rest] == p]
            a = gnn(track[sel], detection[sel], cost[sel], n_tracks, n_dets, miss)
            got = a >= 0
            out[got] = a[got]
        return out

    # -------------------------------------------------------------- updates

    def _update_gnn(self, a, z, R, mm, sr, sv) -> np.ndarray:
        """Update tracks ``a`` with z, R...; returns a bool mask of successes over ``a``."""
        try:
            self._update_rows(a, z, R, mm, sr, sv)
            return np.ones(a.size, dtype=bool)
        except np.linalg.LinAlgError:
            ok = np.zeros(a.size, dtype=bool)
            for k in range(a.size):  # failure path only: one row at a time
                try:
                    self._update_rows(
                        a[k : k + 1], z[k : k + 1], R[k : k + 1], mm, sr[k : k + 1], sv[k : k + 1]
                    )
                    ok[k] = True
                except np.linalg.LinAlgError:
                    self.counts["update_failures"] += 1
            return ok

    def _update_rows(self, a, z, R, mm, sr, sv) -> None:
        tr = self.tracks
        if self.imm is None:
            res = self.flt.update_kernel(tr.x[0][a], tr.P[0][a], z, R, mm, sr, sv)
            tr.x[0][a] = res.x
            tr.P[0][a] = res.P
        else:
            st = IMMState(tuple(x[a] for x in tr.x), tuple(P[a] for P in tr.P), tr.mu[a])
            res = imm_update(st, self.imm, z, R, mm, sr, sv)
            for j in range(len(self.models)):
                tr.x[j][a] = res.state.x[j]
                tr.P[j][a] = res.state.P[j]
            tr.mu[a] = res.state.probabilities

    def _update_jpda(self, gate, z, R, mm, sr, sv, n_det, pair_part):
        """JPDA marginals and update; returns (tracks updated, their index of each pair
        used, the result, pairs used (None: all))."""
        cfg = self.cfg
        tr = self.tracks
        res = jpda(
            gate.track,
            gate.detection,
            gate.log_likelihood,
            tr.n,
            n_det,
            cfg.detection_probability,
            cfg.clutter_density,
            gate_probability=cfg.gate_probability,
            max_tracks=cfg.jpda_max_tracks,
            max_detections=cfg.jpda_max_detections,
            max_hypotheses=cfg.jpda_max_hypotheses,
        )
        self.counts["jpda_exact_clusters"] += res.n_exact_clusters
        self.counts["jpda_fallback_clusters"] += res.n_fallback_clusters
        try:
            u, loc, updated, mu = self._jpda_posterior(
                gate.track, gate.detection, res.beta, res.beta_miss, z, R, mm, sr, sv, pair_part
            )
        except np.linalg.LinAlgError:  # nothing written: the tracks coast this scan
            if pair_part is None:
                self.counts["update_failures"] += int(np.unique(gate.track).size)
                return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), res, None
            # failure path: each partition alone, so that one failure coasts only its own
            used = np.zeros(gate.track.size, dtype=bool)
            for p in np.unique(pair_part).tolist():
                sel = np.flatnonzero(pair_part == p)
                try:
                    u, _, updated, mu = self._jpda_posterior(
                        gate.track[sel], gate.detection[sel], res.beta[sel], res.beta_miss,
                        z, R, mm, sr, sv, None,
                    )
                except np.linalg.LinAlgError:
                    self.counts["update_failures"] += int(np.unique(gate.track[sel]).size)
                    continue
                self._write_jpda(u, updated, mu)
                used[sel] = True
            u, loc = np.unique(gate.track[used], return_inverse=True)
            return u, loc, res, used
        self._write_jpda(u, updated, mu)
        return u, loc, res, None

    def _write_jpda(self, u, updated, mu) -> None:
        tr = self.tracks
        for j, (x_new, P_new) in enumerate(updated):
            tr.x[j][u] = x_new
            tr.P[j][u] = P_new
        if mu is not None:
            tr.mu[u] = mu

    def _jpda_posterior(self, track, detection, beta, beta_miss, z, R, mm, sr, sv, pair_part):
        """PDA update of the tracks of the pairs; raises LinAlgError, writing nothing."""
        cfg = self.cfg
        tr = self.tracks
        u, loc = np.unique(track, return_inverse=True)
        m = mm.dim
        sb = np.bincount(loc, beta, minlength=u.size)
        Rw = np.zeros((u.size, m, m))
        np.add.at(Rw, loc, beta[:, None, None] * R[detection])
        Rany = np.zeros((u.size, m, m))
        Rany[loc] = R[detection]
        Reff = np.where(sb[:, None, None] > 0, Rw / np.maximum(sb, 1e-300)[:, None, None], Rany)
        if pair_part is None:
            s0 = np.broadcast_to(sr[detection[0]][None], (u.size, 3))
            v0 = np.broadcast_to(sv[detection[0]][None], (u.size, 3))
        else:  # the sensor state of the first pair of each track's partition
            part_u = np.empty(u.size, dtype=np.int64)
            part_u[loc] = pair_part
            codes, first = np.unique(pair_part, return_index=True)
            d0 = detection[first[np.searchsorted(codes, part_u)]]
            s0, v0 = sr[d0], sv[d0]
        pd_pg = cfg.detection_probability * cfg.gate_probability
        log_b = math.log(1.0 - pd_pg) if pd_pg < 1.0 else -np.inf
        log_c = math.log(cfg.detection_probability) - math.log(cfg.clutter_density)
        n_models = len(self.models)
        log_lam = np.zeros((u.size, n_models))
        zd = z[detection]
        updated = []
        for j in range(n_models):
            xj, Pj = tr.x[j][u], tr.P[j][u]
            zp, H = mm.predict(xj, s0, v0)
            nu = mm.residual(zd, zp[loc])
            if n_models > 1:
                S = _sym(H @ Pj @ np.swapaxes(H, -1, -2) + Reff)
                L = np.linalg.cholesky(S)
                w = np.linalg.solve(L[loc], nu[..., None])[..., 0]
                logdet = 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(-1)
                ll = -0.5 * (np.einsum("ki,ki->k", w, w) + logdet[loc] + m * _LOG_2PI)
                a = ll + log_c
                peak = np.full(u.size, log_b)
                np.maximum.at(peak, loc, a)
                tot = np.exp(log_b - peak)
                np.add.at(tot, loc, np.exp(a - peak[loc]))
                log_lam[:, j] = peak + np.log(tot)
            updated.append(jpda_update_ekf(xj, Pj, H, Reff, loc, nu, beta, beta_miss[u]))
        mu = None
        if n_models > 1:
            lw = log_lam + np.log(np.maximum(tr.mu[u], 1e-300))
            lw -= lw.max(axis=1, keepdims=True)
            w = np.exp(lw)
            mu = w / w.sum(axis=1, keepdims=True)
        return u, loc, updated, mu

    # -------------------------------------------------------------- initiation

    def _new_tracks(self, x6, P6, mask, truth, t, hits, part) -> dict:
        k = x6.shape[0]
        xs, Ps = [], []
        for name in self.model_names:
            xj, Pj = embed(x6, P6, name)
            xs.append(xj)
            Ps.append(Pj)
        # ids count per partition, in report order within each
        per_part = np.bincount(part, minlength=self.n_parts)
        by_part = np.argsort(part, kind="stable")
        rank = np.empty(k, dtype=np.int64)
        rank[by_part] = np.arange(k) - (np.cumsum(per_part) - per_part)[part[by_part]]
        ids = self.next_id[part] + rank
        self.next_id = self.next_id + per_part
        status = np.full(k, _CONFIRMED if hits >= self.cfg.confirm_m else _TENTATIVE, np.int8)
        self.counts["tracks_created"] += k
        self.counts["tracks_confirmed"] += int(np.count_nonzero(status == _CONFIRMED))
        return {
            "x": xs,
            "P": Ps,
            "mu": np.full((k, len(self.models)), 1.0 / len(self.models)),
            "ids": ids,
            "status": status,
            "hits": np.full(k, hits, np.int64),
            "age": np.full(k, hits, np.int64),
            "misses": np.zeros(k, np.int64),
            "t_update": np.full(k, t),
            "t_scan": np.full(k, t),
            "n_updates": np.full(k, hits, np.int64),
            "mask": mask,
            "truth": truth,
            "part": part,
            "t_now": np.full(k, t),
        }

    def _initiate(self, rows: np.ndarray, inp: _Input, t: float) -> dict | None:
        """New tracks from unassociated reports ``rows`` (input row indices)."""
        cfg = self.cfg
        if rows.size == 0 and self.pending is None:
            return None
        if cfg.initiation == "single":
            k = rows.size
            if k == 0:
                return None
            x6 = np.zeros((k, 6))
            x6[:, :3] = inp.pos[rows]
            P6 = np.zeros((k, 6, 6))
            P6[:, :3, :3] = inp.pos_cov[rows]
            P6[:, [3, 4, 5], [3, 4, 5]] = cfg.velocity_sigma_m_s**2
            self.counts["reports_used"] += k
            return self._new_tracks(x6, P6, inp.mask[rows], inp.truth[rows], t, 1, inp.part[rows])
        # two-point differencing
        pend = self.pending
        new = None
        if pend is not None:
            live = (t - pend["t"]) <= cfg.two_point_max_dt_s
            pend = {key: val[live] for key, val in pend.items()}
            older = pend["t"] < t
            if rows.size and np.any(older):
                pidx = np.flatnonzero(older)
                dt_p = t - pend["t"][pidx]
                pos_new = inp.pos[rows]
                sig_p = np.sqrt(np.trace(pend["cov"][pidx], axis1=1, axis2=2))
                tr_new = np.trace(inp.pos_cov[rows], axis1=1, axis2=2)
                if not self.partitioned:
                    sig_new = math.sqrt(float(np.max(tr_new)))
                    radius = cfg.two_point_max_speed_m_s * dt_p + 3.0 * (sig_p + sig_new)
                    pi, ci = pregate_pairs(pend["pos"][pidx], radius, pos_new)
                    pair_part = None
                else:
                    # the largest report sigma of each partition (rows grouped by partition)
                    r_part = inp.part[rows]
                    starts = np.flatnonzero(np.r_[True, r_part[1:] != r_part[:-1]])
                    sig_new = np.zeros(self.n_parts)
                    sig_new[r_part[starts]] = np.sqrt(np.maximum.reduceat(tr_new, starts))
                    p_part = pend["part"][pidx]
                    radius = cfg.two_point_max_speed_m_s * dt_p + 3.0 * (sig_p + sig_new[p_part])
                    pi, ci = _pairs_apart(pend["pos"][pidx], radius, pos_new, p_part, r_part)
                    pair_part = p_part[pi]
                if pi.size:
                    dist = np.linalg.norm(pos_new[ci] - pend["pos"][pidx[pi]], axis=1)
                    cost = (dist / (dt_p[pi] * cfg.two_point_max_speed_m_s)) ** 2
                    assign = self._gnn(ci, pi, cost, rows.size, pidx.size, 1e6, pair_part)
                    got = np.flatnonzero(assign >= 0)
                    if got.size:
                        p_sel = pidx[assign[got]]
                        r_sel = rows[got]
                        dt = t - pend["t"][p_sel]
                        R1, R2 = pend["cov"][p_sel], inp.pos_cov[r_sel]
                        x6 = np.zeros((got.size, 6))
                        x6[:, :3] = inp.pos[r_sel]
                        x6[:, 3:] = (inp.pos[r_sel] - pend["pos"][p_sel]) / dt[:, None]
                        P6 = np.zeros((got.size, 6, 6))
                        P6[:, :3, :3] = R2
                        P6[:, :3, 3:] = R2 / dt[:, None, None]
                        P6[:, 3:, :3] = R2 / dt[:, None, None]
                        P6[:, 3:, 3:] = (R1 + R2) / (dt * dt)[:, None, None]
                        new = self._new_tracks(
                            x6, P6, inp.mask[r_sel] & pend["mask"][p_sel], inp.truth[r_sel], t, 2,
                            inp.part[r_sel],
                        )
                        self.counts["reports_used"] += 2 * got.size
                        keep = np.ones(pend["t"].size, dtype=bool)
                        keep[p_sel] = False
                        pend = {key: val[keep] for key, val in pend.items()}
                        rest = np.ones(rows.size, dtype=bool)
                        rest[got] = False
                        rows = rows[rest]
        add = {
            "pos": inp.pos[rows],
            "cov": inp.pos_cov[rows],
            "t": np.full(rows.size, t),
            "mask": inp.mask[rows],
            "truth": inp.truth[rows],
            "part": inp.part[rows],
        }
        if pend is None:
            pend = add
        else:
            pend = {key: np.concatenate((pend[key], add[key])) for key in pend}
        self.pending = pend
        return new

    # -------------------------------------------------------------- scan

    def scan(self, inp: _Input, rows: np.ndarray) -> None:
        """Process one scan: ``rows`` of one (t, sensor, type), grouped by partition."""
        if not self.partitioned:
            self._scan(inp, rows, None)
            return
        part = inp.part[rows]
        seen = np.zeros(self.n_parts, dtype=bool)
        seen[part] = True
        # the partitions without a report in this scan do not see it: set them aside
        tr, pend = self.tracks, self.pending
        in_tr = seen[tr.part]
        away = None if in_tr.all() else tr.take(~in_tr)
        if away is not None:
            self.tracks = tr.take(in_tr)
        in_pend = None if pend is None else seen[pend["part"]]
        pend_away = None
        if in_pend is not None and not in_pend.all():
            pend_away = {key: val[~in_pend] for key, val in pend.items()}
            self.pending = {key: val[in_pend] for key, val in pend.items()}
        self._scan(inp, rows, part)
        if away is not None:
            away.extend(self.tracks)
            self.tracks = away
        if pend_away is not None:
            self.pending = {key: np.concatenate((pend_away[key], self.pending[key]))
                            for key in pend_away}

    def _scan(self, inp: _Input, rows: np.ndarray, part: np.ndarray | None) -> None:
        """One scan over all live tracks; ``part``: partition of each row (None: none)."""
        cfg = self.cfg
        tr = self.tracks
        t = float(inp.t[rows[0]])
        type_name = _TYPES[int(inp.type_code[rows[0]])]
        mm = MEASUREMENT_MODELS[type_name]
        m = mm.dim
        gamma = self.gamma[type_name]
        self._predict(t)
        n_det = rows.size
        z = inp.z[rows, :m]
        R = inp.R[rows, :m, :m]
        sr, sv = inp.sr[rows], inp.sv[rows]
        n_old = tr.n
        hit = np.zeros(n_old, dtype=bool)
        used_det = np.zeros(n_det, dtype=bool)
        gated_det = np.zeros(n_det, dtype=bool)
        failed_det = np.zeros(n_det, dtype=bool)  # its track's update failed numerically
        touched = None  # tracks an update may have changed: those with a gated report
        if n_old:
            x6, P6 = self._combined()
            if part is None:
                ti, di = self._candidates_alone(x6, P6, rows, type_name, gamma)
            else:
                ti, di = self._candidates_parts(x6, P6, rows, type_name, gamma, part)
            gate = chi2_gate(x6, P6, ti, di, z, R, mm, sr, sv, gamma)
            gated_det[gate.detection] = True
            if gate.track.size:
                touched = np.unique(gate.track)
                pair_part = None if part is None else tr.part[gate.track]
                if cfg.association == "gnn":
                    self._scan_gnn(gate, z, R, mm, sr, sv, rows, gamma, n_det, hit, used_det,
                                   failed_det, pair_part)
                else:
                    self._scan_jpda(gate, z, R, mm, sr, sv, rows, n_det, hit, used_det,
                                    pair_part)
        self.counts["reports_used"] += int(used_det.sum())
        # management of the tracks that existed before this scan
        # M-of-N counts instants, not sensors: several sensors reporting at one time are
        # one look (three hits in one instant would confirm a track whose velocity is
        # still its prior)
        later = t > tr.t_scan + 1e-9
        fresh = hit & (t > tr.t_update + 1e-9)
        tr.age += later
        tr.hits += fresh
        tr.t_scan = np.where(later, t, tr.t_scan)
        tr.misses = np.where(hit, 0, tr.misses + later)
        tr.t_update = np.where(hit, t, tr.t_update)
        tr.n_updates += hit
        tent = tr.status == _TENTATIVE
        confirm = tent & (tr.hits >= cfg.confirm_m)
        tr.status[confirm] = _CONFIRMED
        self.counts["tracks_confirmed"] += int(confirm.sum())
        if n_old:
            x6, P6 = self._combined_again(x6, P6, touched)
            sig = np.sqrt(np.maximum(np.trace(P6[:, :3, :3], axis1=1, axis2=2), 0.0))
            dead = (
                (tent & ~confirm & (tr.hits + (cfg.confirm_n - tr.age) < cfg.confirm_m))
                | (tr.misses >= cfg.max_misses)
                | (t - tr.t_update > cfg.max_coast_s)
                | ~(sig <= cfg.max_position_sigma_m)
            )
            status = np.where(dead, _DELETED, tr.status)
            self._emit(t, tr.ids, status, x6, P6, tr.mu, tr.mask, tr.n_updates, tr.truth,
                       tr.part)
            if np.any(dead):
                self.counts["tracks_deleted"] += int(dead.sum())
                tr.keep(~dead)
        # initiation
        if type_name in _INITIATING:
            free = ~(used_det | failed_det) if cfg.association == "gnn" else ~gated_det
            new = self._initiate(rows[free], inp, t)
        else:
            new = None
        if new is not None and new["ids"].size:
            tr.append(new)
            if self.imm is None:
                x6n, P6n = new["x"][0][:, :6], new["P"][0][:, :6, :6]
            else:
                x6n, P6n = combined(IMMState(tuple(new["x"]), tuple(new["P"]), new["mu"]))
            self._emit(
                t,
                new["ids"],
                new["status"],
                x6n,
                P6n,
                new["mu"],
                new["mask"],
                new["n_updates"],
                new["truth"],
                new["part"],
            )

    def _scan_gnn(self, gate, z, R, mm, sr, sv, rows, gamma, n_det, hit, used_det, failed_det,
                  pair_part):
        tr = self.tracks
        cost = gate.distance2 + gate.log_det_S
        mx = np.full(tr.n, -np.inf)
        np.maximum.at(mx, gate.track, gate.log_det_S)
        miss = gamma + np.where(np.isfinite(mx), mx, 0.0) + 1e-9
        assign = self._gnn(gate.track, gate.detection, cost, tr.n, n_det, miss, pair_part)
        a = np.flatnonzero(assign >= 0)
        if a.size == 0:
            return
        d = assign[a]
        ok = self._update_gnn(a, z[d], R[d], mm, sr[d], sv[d])
        failed_det[d[~ok]] = True
        a, d = a[ok], d[ok]
        hit[a] = True
        used_det[d] = True
        r = rows[d]
        tr.mask[a] &= self._input.mask[r]
        tr.truth[a] = self._input.truth[r]

    def _scan_jpda(self, gate, z, R, mm, sr, sv, rows, n_det, hit, used_det, pair_part):
        tr = self.tracks
        u, loc, res, used = self._update_jpda(gate, z, R, mm, sr, sv, n_det, pair_part)
        if u.size == 0:
            return
        det, beta = gate.detection, res.beta
        if used is not None:
            det, beta = det[used], beta[used]
        hit[u] = res.beta_miss[u] < 0.5
        used_det[det] = True
        r = rows[det]
        order = np.lexsort((-beta, loc))
        starts = np.r_[0, np.flatnonzero(np.diff(loc[order])) + 1]
        tr.truth[u] = self._input.truth[r[order[starts]]]
        tr.mask[u] &= np.bitwise_and.reduceat(self._input.mask[r[order]], starts)

    def _emit(self, t, ids, status, x6, P6, mu, mask, n_updates, truth, part) -> None:
        if self.partitioned:
            # rows grouped by partition (stable), so that :meth:`table` writes runs
            by_part = np.argsort(part, kind="stable")
            self.rows.append(
                (
                    np.full(ids.size, t),
                    ids[by_part],
                    status[by_part].astype(np.int8),
                    x6[by_part],
                    P6[by_part].reshape(-1, 36) if self.covariances else None,
                    mu[by_part],
                    mask[by_part],
                    n_updates[by_part],
                    truth[by_part],
                    part[by_part],
                )
            )
            return
        self.rows.append(
            (
                np.full(ids.size, t),
                ids.copy(),
                status.astype(np.int8),
                x6.copy(),
                P6.reshape(-1, 36).copy() if self.covariances else None,
                mu.copy(),
                mask.copy(),
                n_updates.copy(),
                truth.copy(),
            )
        )

    # -------------------------------------------------------------- output

    def _columns_by_partition(self) -> list[np.ndarray]:
        """The emitted columns, rows sorted by partition (stable: each partition's rows
        in the order of its run alone), written once to their place (a run of rows per
        partition of each emitted block); the position-velocity column transposed (6, n),
        a contiguous row per Tracks column. The emitted blocks are let go as their column is
        written (the run's rows are held once, not twice)."""
        blocks = list(zip(*self.rows, strict=True))
        self.rows = []
        part = np.concatenate(blocks[9])
        # a stable sort of small integers is a radix sort
        small = np.uint16 if self.n_parts <= np.iinfo(np.uint16).max else np.int64
        by_part = np.argsort(part.astype(small), kind="stable")
        dest = np.empty_like(by_part)
        dest[by_part] = np.arange(by_part.size)
        cols = []
        for k in range(len(blocks)):
            column, blocks[k] = blocks[k], None
            cols.append(None if column[0] is None
                        else _scatter_rows(column, dest, transpose=k == 3))
        return cols

    def _summary_rows_only(self) -> None:
        """Keep, of the emitted rows, every row of each track ever emitted as confirmed,
        and the first row of each partition in each emitted block (one scan, one time):
        the rows the run summary (:func:`hyperdef.tracking.metrics.summary`: confirmed
        rows, over the table's distinct times) and the fire control (the history of every
        track ever confirmed) read. Tracks never confirmed otherwise go: with a radar's
        false alarms, nearly all of them."""
        blocks = self.rows
        sizes = np.array([b[1].size for b in blocks])
        ids = np.concatenate([b[1] for b in blocks]).astype(np.int64)
        status = np.concatenate([b[2] for b in blocks])
        part = (np.concatenate([b[9] for b in blocks]).astype(np.int64) if self.partitioned
                else np.zeros(ids.size, np.int64))
        key = part * (int(ids.max(initial=0)) + 1) + ids
        firm = np.unique(key[status == _CONFIRMED])
        at = np.minimum(np.searchsorted(firm, key), max(firm.size - 1, 0))
        keep = firm[at] == key if firm.size else np.zeros(ids.size, dtype=bool)
        first = np.r_[True, part[1:] != part[:-1]]  # rows of a block are grouped by part
        first[np.cumsum(sizes)[:-1]] = True  # a block's first row
        keep |= first
        bounds = np.r_[0, np.cumsum(sizes)]
        self.rows = []
        for k, block in enumerate(blocks):
            sel = np.flatnonzero(keep[bounds[k]:bounds[k + 1]])
            self.rows.append(tuple(None if col is None else col[sel] for col in block))

    def table(self) -> pa.Table:
        n_models = len(self.models)
        if self.rows and self.summary_rows:
            self._summary_rows_only()
        if self.rows and self.partitioned:
            cols = self._columns_by_partition()
        elif self.rows:
            cols = [np.concatenate([x.T for x in c], axis=1) if k == 3
                    else None if c[0] is None else np.concatenate(c)
                    for k, c in enumerate(zip(*self.rows, strict=True))]
        else:
            cols = [
                np.zeros(0),
                np.zeros(0, np.int64),
                np.zeros(0, np.int8),
                np.zeros((6, 0)),
                np.zeros((0, 36)),
                np.zeros((0, n_models)),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
            ][: 10 if self.partitioned else 9]
        t, ids, status, x6_t, P, mu, mask, n_upd, truth = cols[:9]
        n = t.size
        uniq, inv = np.unique(mask, return_inverse=True)
        names = sorted(NODES)
        text = []
        for bits in uniq.tolist():
            nations = [names[i] for i in range(len(names)) if bits >> i & 1]
            text.append(format_marking(nations) if nations else f"REL TO {self.node}")
        # string columns as a take from their few distinct values (no object arrays); the
        # numeric columns wrap the arrays written above (no copy)
        marking = pa.array(text, pa.string()).take(pa.array(inv.reshape(-1)))

        def lists(a: np.ndarray, width: int) -> pa.ListArray:
            offsets = pa.array(np.arange(n + 1, dtype=np.int32) * width)
            return pa.ListArray.from_arrays(
                offsets, pa.array(a.reshape(-1).astype(float, copy=False))
            )

        arrays = [
            pa.array(t),
            pa.array(ids.astype(np.int64, copy=False)),
            pa.repeat(pa.scalar(self.node, pa.string()), n),
            pa.array(_STATUS.tolist(), pa.string()).take(pa.array(status)),
            *(pa.array(x6_t[k]) for k in range(6)),
            lists(P, 36) if self.covariances else pa.nulls(n, pa.list_(pa.float64())),
            lists(mu, n_models),
            marking,
            pa.array(n_upd.astype(np.int64, copy=False)),
            pa.array(truth.astype(np.int64, copy=False)),
        ]
        table = pa.Table.from_arrays(arrays, schema=TRACKS_SCHEMA)
        if self._input.part_values is not None:
            codes = cols[9] if self.partitioned else np.zeros(n, np.int64)
            values = self._input.part_values[codes] if n else np.zeros(0, np.int64)
            table = table.append_column(pa.field(self._input.part_name, pa.int64()),
                                        pa.array(values.astype(np.int64, copy=False)))
        return table


def _scatter_rows(blocks, dest: np.ndarray, transpose: bool = False) -> np.ndarray:
    """The blocks' rows, concatenated, written to rows ``dest`` of a new array (with
    ``transpose``, to columns ``dest`` of a new array of the blocks' rows transposed).

    A row of several values is moved as one opaque item (a NumPy void scalar of the
    row's bytes), one ``memcpy`` per row instead of an element-wise copy: the covariance
    column of a 32-run ``single_hgv`` pass (1.1 million rows of 36 values) took 0.71 s
    instead of 0.99 s.
    """
    first = blocks[0]
    if transpose:
        out = np.empty(first.shape[1:] + (dest.size,), dtype=first.dtype)
        items = None
    else:
        out = np.empty((dest.size,) + first.shape[1:], dtype=first.dtype)
        row = np.dtype((np.void, out[:1].nbytes))
        items = out.view(row).reshape(-1) if first.ndim > 1 else out
    start = 0
    for block in blocks:  # one write per emitted block (per scan)
        stop = start + block.shape[0]
        if items is None:
            out[:, dest[start:stop]] = block.T
        elif block.ndim > 1:
            items[dest[start:stop]] = np.ascontiguousarray(block).view(row).reshape(-1)
        else:
            items[dest[start:stop]] = block
        start = stop
    return out


#: Same-partition (track, report) pairs per point below which :func:`_pairs_apart` tests
#: every pair instead of building k-d trees: a campaign's lockstep pass has many small
#: partitions (``single_hgv``: about 25 tracks and 6 reports each, 6 pairs per point).
_ALL_PAIRS_PER_POINT = 32


def _pairs_in_partitions(track_pos, radius, det_pos, track_part, det_part):
    """Every same-partition pair within the track's (finite) radius, sorted by track
    then report, by testing all such pairs; None where they number more than
    :data:`_ALL_PAIRS_PER_POINT` per point (then the k-d trees are faster)."""
    order = np.argsort(det_part, kind="stable")  # a partition's reports in index order
    sorted_part = det_part[order]
    lo = np.searchsorted(sorted_part, track_part, side="left")
    count = np.searchsorted(sorted_part, track_part, side="right") - lo
    total = int(count.sum())
    if total > _ALL_PAIRS_PER_POINT * (track_pos.shape[0] + det_pos.shape[0]):
        return None
    ti = np.repeat(np.arange(track_pos.shape[0]), count)
    ends = np.cumsum(count)
    di = order[np.repeat(lo - ends + count, count) + np.arange(total)]
    diff = track_pos[ti] - det_pos[di]
    inside = np.sqrt(np.einsum("ij,ij->i", diff, diff)) <= radius[ti]
    return ti[inside], di[inside]


def _pairs_apart(track_pos, radius, det_pos, track_part, det_part):
    """Pre-gate pairs (:func:`pregate_pairs`) of tracks and reports of one partition only.

    The k-d trees hold the partitions apart in a fourth coordinate (partition x a step
    longer than every radius, so that no ball reaches another partition; a same-partition
    distance gains an exact 0). Pairs within the largest radius come from one dual-tree
    search, then each track keeps those within its own radius. Pairs sorted by track,
    then report.
    """
    if track_pos.shape[0] == 0 or det_pos.shape[0] == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    finite = np.isfinite(radius)
    if finite.all():
        pairs = _pairs_in_partitions(track_pos, radius, det_pos, track_part, det_part)
        if pairs is not None:
            return pairs
    r_max = float(radius[finite].max(initial=0.0))
    step = 2.0 * r_max + 1.0
    track4 = np.column_stack((track_pos, track_part * step))
    det4 = np.column_stack((det_pos, det_part * step))
    if finite.all():
        near = cKDTree(track4).sparse_distance_matrix(cKDTree(det4), r_max,
                                                      output_type="ndarray")
        ti, di = near["i"].astype(np.intp), near["j"].astype(np.intp)
        inside = near["v"] <= radius[ti]
        ti, di = ti[inside], di[inside]
    else:  # an infinite (or NaN) radius: a ball per track
        ti, di = pregate_pairs(track4, radius, det4)
    same = track_part[ti] == det_part[di]  # an infinite radius reaches all partitions
    ti, di = ti[same], di[same]
    order = np.argsort(ti * det_pos.shape[0] + di)
    return ti[order], di[order]


def run_tracker(
    detections: pa.Table,
    config: TrackerConfig = TrackerConfig(),  # noqa: B008 (frozen, immutable)
    *,
    node: str | None = None,
    partition: str | None = None,
    covariances: bool = True,
    rows: str = "all",
) -> TracksResult:
    """Track every target of a Detections table (module notes).

    Parameters
    ----------
    detections : pyarrow.Table
        Detections (DESIGN.md): the columns of :data:`REQUIRED_COLUMNS`; ``truth_id``, if
        present, is only copied to the output.
    config : TrackerConfig
        Tracker settings.
    node : str, optional
        ISO 3166 trigraph of the nation running the tracker, written to every row and
        used in the fallback marking. Default: the single ``node`` of the detections
        (an error if they come from several; with partitions, of all of them).
    partition : str, optional
        An integer column of the detections (e.g. ``'draw'``) holding independent
        problems, tracked in one pass (module notes, *Partitions*): the rows of each
        value are exactly those of a run on that value's reports alone.
    covariances : bool, default True
        Write each row's ``P``. False leaves the column null (the tracks and every other
        column are the same): for callers that read only the states, such as a
        campaign's rows, it saves the largest column (36 values per row).
    rows : {'all', 'summary'}, default 'all'
        ``'summary'`` keeps only the rows a run's summary and its fire control read:
        every row of each track that was ever confirmed, and one row per scan of each
        partition (so the table's distinct times stay). The summary of the table
        (:func:`hyperdef.tracking.metrics.summary`) and the engagements fired on it are
        the same as with ``'all'``; the tentative tracks of false alarms, most of the
        rows, are left out (a campaign's tracker passes).

    Returns
    -------
    TracksResult
        The Tracks table (one row per track per scan alive, sorted by time then id) and
        the run's counts. With ``partition``, the table has that column too (int64), rows
        sorted by partition, and the counts are sums over the partitions.

    Raises
    ------
    InputError
        For missing columns, an unknown ``meas_type``, a ``z``/``R`` of the wrong length or
        a bad ``marking`` (naming the row and the column), an unknown/ambiguous node, or a
        ``partition`` that is not an integer column without nulls (or is named like a
        Tracks column).

    References
    ----------
    [BLK] section 5.5.3, [BP99] ch. 3 and 6, [BWT11] ch. 3, [BDH09].
    """
    if not isinstance(config, TrackerConfig):
        raise InputError(f"config: expected a TrackerConfig, got {type(config).__name__}")
    if not isinstance(detections, pa.Table):
        raise InputError(f"detections: expected a pyarrow.Table, got {type(detections).__name__}")
    skipped: dict[str, int] = {}
    inp, out_of_order = _prepare(detections, skipped, partition)
    if node is None:
        nodes = sorted(set(detections.column("node").drop_null().to_pylist()))
        if len(nodes) != 1:
            raise InputError(
                f"node: the detections come from nodes {nodes}; pass node= (the tracker's nation)"
            )
        node = nodes[0]
    check_node(node, "node")
    if not isinstance(covariances, bool):
        raise InputError(f"covariances: expected True or False, got {covariances!r}")
    if rows not in ("all", "summary"):
        raise InputError(f"rows: {rows!r} is not one of all, summary")
    run = _Run(config, node, inp, covariances, rows)
    for start, stop in inp.scans:
        run.scan(inp, inp.order[start:stop])
    counts = {
        "reports": detections.num_rows,
        "scans": inp.part_scans,
        "reports_skipped": skipped,
        "out_of_order_rows": out_of_order,
        **run.counts,
    }
    return TracksResult(run.table(), counts)


def write_tracks(table: pa.Table, path: str | Path) -> None:
    """Write a Tracks table to Parquet atomically (nothing half-written on failure).

    Raises
    ------
    InputError
        If the table lacks a column of :data:`TRACKS_COLUMNS`.
    """
    from hyperdef.report import atomic_output

    missing = [c for c in TRACKS_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"table: not a Tracks table, missing columns {', '.join(missing)}")
    with atomic_output(Path(path)) as tmp:
        pq.write_table(table, tmp)


def read_tracks(path: str | Path) -> pa.Table:
    """Read a Tracks table written by :func:`write_tracks`, checking its schema.

    Raises
    ------
    InputError
        If the file lacks a column of :data:`TRACKS_COLUMNS` or a column has the wrong type.
    """
    table = pq.read_table(path)
    missing = [c for c in TRACKS_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"{path}: not a Tracks table, missing columns {', '.join(missing)}")
    for f in TRACKS_SCHEMA:
        if f.name in table.column_names and not table.schema.field(f.name).type.equals(f.type):
            try:
                table = table.set_column(
                    table.column_names.index(f.name), f.name, table.column(f.name).cast(f.type)
                )
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InputError(
                    f"{path}: column {f.name} has type {table.schema.field(f.name).type}, "
                    f"expected {f.type}"
                ) from None
    return table
