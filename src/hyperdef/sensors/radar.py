"""Surface radars: fixed ground sites and ships on a route.

A :class:`Radar` scans its field of regard once every ``revisit_s`` and reports range,
azimuth (from north), elevation and range-rate in its local ENU frame
(``meas_type='raer'``). The model, each part with its source:

Radar equation, scaled from a reference ([Skolnik] ch. 2)
    ``SNR = snr_ref (range_ref_m / R)^4 (rcs / rcs_ref_m2)``: everything else in the
    radar equation (power, aperture, losses, dwell) is folded into one calibration
    point, the SNR on a target of ``rcs_ref_m2`` at ``range_ref_m``.
Radar cross section by aspect
    A small table per threat kind (:class:`RcsTable`), interpolated linearly in aspect
    and in dB; the aspect is the angle between the target's velocity and the line from
    the target to the radar (0 nose-on, pi/2 broadside, pi tail-on). During the
    ``boost`` phase the booster stack's table applies. Objects of unknown kind are a
    constant ``rcs_ref_m2``.
Detection, Swerling 1 ([Richards] ch. 6, [Skolnik] ch. 2.8)
    Square-law detection of a slowly fluctuating target (exponential power) against a
    threshold set for ``pfa``: ``Pd = pfa ** (1 / (1 + SNR))`` (:func:`pd_swerling1`),
    with SNR the mean signal-to-noise ratio. The detections of successive scans are
    independent.
Coverage
    A detection needs the object to exist, the line of sight over the 4/3 effective
    Earth (:func:`~hyperdef.sensors.visibility.line_of_sight`), the azimuth within
    ``boresight_az_rad +- az_half_width_rad`` (``az_half_width_rad >= pi``: all round,
    a rotator or four faces), the geometric elevation in ``[el_min_rad, el_max_rad]``
    and the slant range within ``max_range_m``.
Measurement noise ([Barton] ch. 7-8, [POMR] ch. 18)
    Thermal-noise precision falls with SNR, down to a floor set by everything else
    (calibration, multipath, quantisation), combined in quadrature:
    ``sigma_angle = hypot(floor, beamwidth / (k_m sqrt(2 SNR)))`` (monopulse slope
    ``k_m``; the azimuth sigma is the angle sigma over ``cos(elevation)``),
    ``sigma_range = hypot(floor, range_resolution / sqrt(2 SNR))``, and
    ``sigma_range_rate = hypot(floor, range_rate_resolution / sqrt(2 SNR))``. The
    reported covariance R is diagonal with these variances. An optional fixed ``bias``
    per radar is added to every true detection and is not in R (the tracker does not
    know it).
False alarms ([Richards] ch. 6)
    Each scan has ``Poisson(pfa * N_cells)`` false alarms, with ``N_cells`` the number of
    resolution cells of the surveillance volume: ``(max_range_m / range_resolution_m) x
    (azimuth extent / beamwidth) x (elevation extent / beamwidth)``. They are spread
    uniformly in range, azimuth and elevation over that volume, with a range-rate
    uniform in ``+- max_range_rate_m_s``; their reported SNR is the noise power that
    crossed the threshold, ``-ln(pfa) + Exp(1)`` (the exponential noise power is
    memoryless above the threshold).

Presets with open-literature calibration: :func:`s_band_ship_radar` (AN/SPY-1/SPY-6
class) and :func:`x_band_ground_radar` (AN/TPY-2 class).

References
----------
.. [Skolnik] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill,
   2001: ch. 2 (radar equation; 2.8, target fluctuations and the Swerling models),
   ch. 8 (4/3 effective Earth).
.. [Richards] M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed.,
   McGraw-Hill, 2014, ch. 6, "Threshold Detection of Radar Targets" (Swerling 1 with a
   single sample: ``P_D = P_FA^(1/(1+chi))``; false alarms per resolution cell).
.. [POMR] M. A. Richards, J. A. Scheer, W. A. Holm (eds.), *Principles of Modern Radar:
   Basic Principles*, SciTech, 2010, ch. 18, "Radar Measurements" (precision of range,
   angle and Doppler as resolution over sqrt(2 SNR); monopulse slope about 1.6).
.. [Barton] D. K. Barton, *Radar Equations for Modern Radar*, Artech House, 2013, and
   *Radar System Analysis and Modeling*, Artech House, 2005, ch. 7-8 (measurement
   error budgets: thermal noise in quadrature with fixed floors and biases).
.. [Knott] E. F. Knott, J. F. Shaeffer, M. T. Tuley, *Radar Cross Section*, 2nd ed.,
   SciTech, 2004, ch. 5-6 (aspect dependence of cones and cylinders: small nose-on,
   specular broadside flash).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
import pyarrow as pa

from hyperdef.checks import finite, non_negative, positive
from hyperdef.core.earth import R_EARTH_MEAN_M
from hyperdef.core.frames import ecef_to_enu, enu_to_aer, lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.sensors.base import Reporting, look_times
from hyperdef.sensors.detections import concat_detections, empty_detections, make_detections
from hyperdef.sensors.truth import TruthSamples, truth_at
from hyperdef.sensors.visibility import STANDARD_K_FACTOR, line_of_sight
from hyperdef.threats.trajectory import PHASE_CODE, Trajectory

__all__ = [
    "Radar",
    "FixedSite",
    "ShipRoute",
    "RcsTable",
    "DEFAULT_RCS_BY_KIND",
    "pd_swerling1",
    "snr_for_pd_swerling1",
    "s_band_ship_radar",
    "x_band_ground_radar",
]

_TWO_PI = 2.0 * math.pi
_HALF_PI = 0.5 * math.pi
#: lowest cos(elevation) used to turn the angle sigma into an azimuth sigma
_MIN_COS_EL = 1e-2
#: altitude limits of a surface radar site, m (Dead Sea shore to the highest sites)
SITE_ALT_LIMITS_M = (-500.0, 9000.0)
#: antenna height limits of a ship's radar above the sea, m
ANTENNA_HEIGHT_LIMITS_M = (0.0, 100.0)








def _latitude(value, field: str) -> float:
    lat = finite(value, field)
    if abs(lat) > _HALF_PI + 1e-12:
        raise InputError(f"{field}: {math.degrees(lat):.6g} deg outside [-90, 90]")
    return lat


def _wrap_azimuth(az: np.ndarray) -> np.ndarray:
    """Azimuth in [0, 2 pi) (a tiny negative value modulo 2 pi rounds to 2 pi)."""
    az = np.mod(az, _TWO_PI)
    return np.where(az >= _TWO_PI, 0.0, az)


# ----------------------------------------------------------------- detection physics


def pd_swerling1(snr, pfa) -> np.ndarray:
    """Probability of detection of a Swerling 1 target with one look.

    Square-law detector, exponential (slowly fluctuating) target power, threshold
    ``T = -ln(pfa)`` in units of the mean noise power: ``Pd = exp(-T / (1 + SNR)) =
    pfa ** (1 / (1 + SNR))``.

    Parameters
    ----------
    snr : array_like, shape (...)
        Mean signal-to-noise power ratio, linear, >= 0.
    pfa : float or array_like
        Probability of false alarm per resolution cell, in (0, 1).

    Returns
    -------
    ndarray, shape (...)
        Pd in [pfa, 1).

    References
    ----------
    .. [1] M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed.,
       McGraw-Hill, 2014, ch. 6 (Swerling 1, N = 1).
    .. [2] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., 2001, sec. 2.8.
    """
    snr = np.asarray(snr, dtype=np.float64)
    return np.power(pfa, 1.0 / (1.0 + snr))


def snr_for_pd_swerling1(pd: float, pfa: float) -> float:
    """Mean SNR (linear) at which a Swerling 1 target is detected with probability ``pd``.

    Inverse of :func:`pd_swerling1`: ``SNR = ln(pfa) / ln(pd) - 1``; ``pfa < pd < 1``.

    References
    ----------
    .. [1] M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed.,
       McGraw-Hill, 2014, ch. 6.
    """
    if not 0.0 < pfa < 1.0:
        raise InputError(f"pfa: {pfa!r} outside (0, 1)")
    if not pfa < pd < 1.0:
        raise InputError(f"pd: {pd!r} outside (pfa, 1) = ({pfa!r}, 1)")
    return math.log(pfa) / math.log(pd) - 1.0


# ------------------------------------------------------------------ target signatures


@dataclass(frozen=True, slots=True)
class RcsTable:
    """Radar cross section against aspect angle, interpolated in dB.

    Attributes
    ----------
    aspect_rad : tuple of float
        Increasing aspect angles in [0, pi], rad: 0 nose-on (flying at the radar),
        pi/2 broadside, pi tail-on. Outside the table the end values hold.
    rcs_m2 : tuple of float
        RCS at those aspects, m^2, > 0.

    References
    ----------
    .. [1] E. F. Knott, J. F. Shaeffer, M. T. Tuley, *Radar Cross Section*, 2nd ed.,
       SciTech, 2004, ch. 5-6 (aspect behaviour of cones and cylinders).
    """

    aspect_rad: tuple[float, ...]
    rcs_m2: tuple[float, ...]

    def __post_init__(self) -> None:
        aspect = tuple(float(a) for a in self.aspect_rad)
        rcs = tuple(float(r) for r in self.rcs_m2)
        if not aspect or len(aspect) != len(rcs):
            raise InputError(
                f"rcs_m2: {len(rcs)} values for {len(aspect)} aspect angles; "
                "need one value per angle and at least one"
            )
        if any(not 0.0 <= a <= math.pi for a in aspect) or any(
            b <= a for a, b in zip(aspect, aspect[1:], strict=False)
        ):
            raise InputError("aspect_rad: angles must increase within [0, pi]")
        if any(not (math.isfinite(r) and r > 0.0) for r in rcs):
            raise InputError("rcs_m2: every value must be finite and > 0")
        object.__setattr__(self, "aspect_rad", aspect)
        object.__setattr__(self, "rcs_m2", rcs)

    def rcs_at(self, aspect_rad) -> np.ndarray:
        """RCS (m^2) at aspect angles (rad), any shape; linear in dB between entries."""
        log_rcs = np.log10(np.asarray(self.rcs_m2))
        return 10.0 ** np.interp(aspect_rad, np.asarray(self.aspect_rad), log_rcs)


def _table_deg(aspect_deg: tuple[float, ...], rcs_m2: tuple[float, ...]) -> RcsTable:
    return RcsTable(tuple(math.radians(a) for a in aspect_deg), rcs_m2)


_ASPECTS_DEG = (0.0, 30.0, 60.0, 90.0, 120.0, 150.0, 180.0)

#: Assumed S/X-band RCS (m^2) of a conical MRBM reentry vehicle (about 2 m long,
#: 0.6 m base): small nose-on, a broadside flash, a blunt base. Order of magnitude
#: only; the shape follows [Knott] for cones.
RCS_REENTRY_VEHICLE = _table_deg(_ASPECTS_DEG, (0.01, 0.02, 0.1, 0.5, 0.3, 0.1, 0.2))
#: Assumed RCS (m^2) of a slender wedge-cone glide vehicle (about 3-4 m long).
RCS_GLIDE_VEHICLE = _table_deg(_ASPECTS_DEG, (0.02, 0.05, 0.2, 1.0, 0.3, 0.1, 0.1))
#: Assumed RCS (m^2) of an air-breathing hypersonic cruise missile (inlet nose-on).
RCS_CRUISE_MISSILE = _table_deg(_ASPECTS_DEG, (0.1, 0.2, 0.5, 3.0, 0.5, 0.3, 0.5))
#: Assumed RCS (m^2) of a booster stack with its payload (10-12 m long, 1.4 m across;
#: the plume is not modelled).
RCS_BOOSTER = _table_deg(_ASPECTS_DEG, (0.5, 2.0, 10.0, 30.0, 10.0, 2.0, 5.0))

#: RCS table of each threat kind; ``boost`` applies to any object in its boost phase.
DEFAULT_RCS_BY_KIND: tuple[tuple[str, RcsTable], ...] = (
    ("ballistic", RCS_REENTRY_VEHICLE),
    ("hgv", RCS_GLIDE_VEHICLE),
    ("hcm", RCS_CRUISE_MISSILE),
    ("boost", RCS_BOOSTER),
)


# ------------------------------------------------------------------------ platforms


@dataclass(frozen=True, slots=True)
class FixedSite:
    """A radar at a fixed place on the ground (or a ship holding station).

    Attributes
    ----------
    lat_rad, lon_rad : float
        Geodetic latitude and longitude of the antenna, rad.
    alt_m : float
        Antenna altitude above the WGS-84 ellipsoid, m, in [-500, 9000].
    """

    lat_rad: float
    lon_rad: float
    alt_m: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "lat_rad", _latitude(self.lat_rad, "lat_rad"))
        object.__setattr__(self, "lon_rad", finite(self.lon_rad, "lon_rad"))
        alt = finite(self.alt_m, "alt_m")
        low, high = SITE_ALT_LIMITS_M
        if not low <= alt <= high:
            raise InputError(f"alt_m: {alt!r} m outside [{low:g}, {high:g}] for a surface radar")
        object.__setattr__(self, "alt_m", alt)

    def lla_at(self, t_s) -> np.ndarray:
        """Geodetic (lat rad, lon rad, alt m) at times ``t_s`` (K,): shape (K, 3)."""
        k = np.asarray(t_s, dtype=float).reshape(-1).size
        return np.tile([self.lat_rad, self.lon_rad, self.alt_m], (k, 1))

    def position_velocity_ecef(self, t_s) -> tuple[np.ndarray, np.ndarray]:
        """ECEF position (m) and velocity (m/s, zero) at times ``t_s`` (K,): (K, 3) each."""
        lla = self.lla_at(t_s)
        return lla_to_ecef(lla, check=False), np.zeros_like(lla)


@dataclass(frozen=True, slots=True)
class ShipRoute:
    """A ship sailing great-circle legs between waypoints at a constant speed.

    The ship waits at the first waypoint until ``t_start_s``, then sails the legs in
    order along great circles of the sphere of mean Earth radius (geodetic latitude
    and longitude used as spherical ones; the usual approximation, a few tenths of a
    percent in distance), and stops at the last waypoint.

    Attributes
    ----------
    waypoints_lat_rad, waypoints_lon_rad : tuple of float
        Waypoints, rad; at least one.
    speed_m_s : float
        Speed over the ground, m/s, >= 0.
    t_start_s : float
        Time the ship leaves the first waypoint, s from the epoch.
    antenna_height_m : float
        Antenna altitude above the sea (the ellipsoid), m, in [0, 100].

    References
    ----------
    .. [1] W. M. Smart, *Textbook on Spherical Astronomy*, 6th ed., Cambridge, 1977,
       ch. 1 (great circles); K. Shoemake, "Animating rotation with quaternion curves",
       SIGGRAPH '85, doi:10.1145/325165.325242 (spherical linear interpolation).
    """

    waypoints_lat_rad: tuple[float, ...]
    waypoints_lon_rad: tuple[float, ...]
    speed_m_s: float
    t_start_s: float = 0.0
    antenna_height_m: float = 20.0

    def __post_init__(self) -> None:
        lat = tuple(np.atleast_1d(np.asarray(self.waypoints_lat_rad, dtype=float)).tolist())
        lon = tuple(np.atleast_1d(np.asarray(self.waypoints_lon_rad, dtype=float)).tolist())
        if not lat or len(lat) != len(lon):
            raise InputError(
                f"waypoints_lon_rad: {len(lon)} longitudes for {len(lat)} latitudes; "
                "need one of each per waypoint and at least one waypoint"
            )
        for i, value in enumerate(lat):
            _latitude(value, f"waypoints_lat_rad[{i}]")
        for i, value in enumerate(lon):
            finite(value, f"waypoints_lon_rad[{i}]")
        object.__setattr__(self, "waypoints_lat_rad", lat)
        object.__setattr__(self, "waypoints_lon_rad", lon)
        object.__setattr__(self, "speed_m_s", non_negative(self.speed_m_s, "speed_m_s"))
        object.__setattr__(self, "t_start_s", finite(self.t_start_s, "t_start_s"))
        height = finite(self.antenna_height_m, "antenna_height_m")
        low, high = ANTENNA_HEIGHT_LIMITS_M
        if not low <= height <= high:
            raise InputError(
                f"antenna_height_m: {height!r} m outside [{low:g}, {high:g}] for a ship at sea"
            )
        object.__setattr__(self, "antenna_height_m", height)

    def _unit_waypoints(self) -> np.ndarray:
        lat = np.asarray(self.waypoints_lat_rad)
        lon = np.asarray(self.waypoints_lon_rad)
        return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))

    def _legs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit waypoints (W, 3), leg central angles (W-1,), cumulative lengths (W,) m."""
        u = self._unit_waypoints()
        a, b = u[:-1], u[1:]
        cx = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
        cy = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
        cz = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        angle = np.arctan2(np.sqrt(cx * cx + cy * cy + cz * cz), np.sum(a * b, axis=1))
        cumulative = np.concatenate(([0.0], np.cumsum(angle * R_EARTH_MEAN_M)))
        return u, angle, cumulative

    @property
    def length_m(self) -> float:
        """Route length along the sphere, m."""
        return float(self._legs()[2][-1])

    def _state(self, t_s) -> tuple[np.ndarray, np.ndarray]:
        """Unit position on the sphere (K, 3) and velocity over the ground (K, 3), m/s."""
        t = np.asarray(t_s, dtype=float).reshape(-1)
        u, angle, cumulative = self._legs()
        if angle.size == 0:
            return np.tile(u[0], (t.size, 1)), np.zeros((t.size, 3))
        travelled = self.speed_m_s * (t - self.t_start_s)
        moving = (travelled >= 0.0) & (travelled < cumulative[-1])
        s = np.clip(travelled, 0.0, cumulative[-1])
        leg = np.clip(np.searchsorted(cumulative, s, side="right") - 1, 0, angle.size - 1)
        omega = angle[leg]
        length = omega * R_EARTH_MEAN_M
        safe = np.where(omega > 0.0, omega, 1.0)
        f = np.where(omega > 0.0, (s - cumulative[leg]) / np.where(length > 0, length, 1.0), 0.0)
        f = np.clip(f, 0.0, 1.0)[:, None]
        a, b = u[leg], u[leg + 1]
        sin_omega = np.where(omega > 0.0, np.sin(safe), 1.0)[:, None]
        w = omega[:, None]
        position = np.where(w > 0.0, (np.sin((1.0 - f) * w) * a + np.sin(f * w) * b) / sin_omega, a)
        tangent = np.where(
            w > 0.0, (-np.cos((1.0 - f) * w) * a + np.cos(f * w) * b) / sin_omega, 0.0
        )
        velocity = np.where(moving[:, None], self.speed_m_s * tangent, 0.0)
        return position, velocity

    def lla_at(self, t_s) -> np.ndarray:
        """Geodetic (lat rad, lon rad, alt m) of the antenna at times ``t_s`` (K,): (K, 3)."""
        p, _ = self._state(t_s)
        lat = np.arctan2(p[:, 2], np.hypot(p[:, 0], p[:, 1]))
        lon = np.arctan2(p[:, 1], p[:, 0])
        return np.column_stack((lat, lon, np.full(lat.shape, self.antenna_height_m)))

    def position_velocity_ecef(self, t_s) -> tuple[np.ndarray, np.ndarray]:
        """ECEF position (m) and velocity (m/s) of the antenna at times ``t_s`` (K,).

        The velocity is the speed along the great circle, horizontal at the ship.
        """
        _, velocity = self._state(t_s)
        return lla_to_ecef(self.lla_at(t_s), check=False), velocity


# ---------------------------------------------------------------------------- radar


@dataclass(frozen=True, slots=True)
class _Geometry:
    """Radar-target geometry on a (B, K) grid."""

    sensor_r: np.ndarray  # (K, 3) ECEF m
    sensor_v: np.ndarray  # (K, 3) ECEF m/s
    aer: np.ndarray  # (B, K, 3) range m, azimuth rad, elevation rad
    range_rate: np.ndarray  # (B, K) m/s
    aspect: np.ndarray  # (B, K) rad
    covered: np.ndarray  # (B, K) bool


@dataclass(frozen=True, slots=True)
class Radar:
    """A surface radar: a fixed site or a ship, with its face, range and accuracy.

    Attributes
    ----------
    reporting : Reporting
        Sensor id, node, releasability and report latency.
    platform : FixedSite or ShipRoute
        Where the antenna is.
    revisit_s : float
        Time between scans of the field of regard, s, > 0.
    max_range_m : float
        Instrumented range, m, > 0.
    snr_ref : float
        Mean SNR (linear) on a target of ``rcs_ref_m2`` at ``range_ref_m``, > 0.
    range_ref_m : float
        Reference range of ``snr_ref``, m, > 0.
    rcs_ref_m2 : float
        Reference RCS, m^2, > 0 (also the RCS of objects of unknown kind).
    pfa : float
        Probability of false alarm per resolution cell per scan, in (0, 1).
    boresight_az_rad : float
        Azimuth of the face's boresight, rad from north (fixed in the local frame,
        whatever a ship's heading).
    az_half_width_rad : float
        Half-width of the azimuth field of regard, rad, > 0; >= pi covers all round.
    el_min_rad, el_max_rad : float
        Elevation limits of the field of regard, rad, in [-pi/2, pi/2], min <= max.
    beamwidth_rad : float
        One-way 3 dB beamwidth, rad, > 0 (angle precision and angle cells).
    range_resolution_m : float
        Range resolution, m, > 0 (range precision and range cells).
    range_rate_resolution_m_s : float
        Doppler resolution as range-rate, m/s, > 0.
    monopulse_slope : float
        Normalised monopulse slope k_m, > 0 (about 1.6).
    angle_sigma_floor_rad, range_sigma_floor_m, range_rate_sigma_floor_m_s : float
        Precision floors, >= 0.
    bias : tuple of 4 float
        Fixed bias of (range m, azimuth rad, elevation rad, range-rate m/s).
    max_range_rate_m_s : float
        Half-width of the range-rate window false alarms fall in, m/s, > 0.
    k_factor : float
        Effective Earth radius factor for line of sight, > 0 (4/3 standard).
    scan_phase_s : float
        One scan instant, s (the scans are ``scan_phase_s + n revisit_s``).
    rcs_by_kind : tuple of (str, RcsTable)
        RCS table per threat kind; the ``boost`` entry applies in the boost phase.

    References
    ----------
    See the module docstring: [Skolnik], [Richards], [POMR], [Barton], [Knott].
    """

    kind: ClassVar[str] = "radar"

    reporting: Reporting
    platform: FixedSite | ShipRoute
    revisit_s: float
    max_range_m: float
    snr_ref: float
    range_ref_m: float
    rcs_ref_m2: float = 1.0
    pfa: float = 1e-6
    boresight_az_rad: float = 0.0
    az_half_width_rad: float = math.pi
    el_min_rad: float = 0.0
    el_max_rad: float = _HALF_PI
    beamwidth_rad: float = math.radians(1.7)
    range_resolution_m: float = 25.0
    range_rate_resolution_m_s: float = 10.0
    monopulse_slope: float = 1.6
    angle_sigma_floor_rad: float = 2e-4
    range_sigma_floor_m: float = 5.0
    range_rate_sigma_floor_m_s: float = 0.5
    bias: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    max_range_rate_m_s: float = 8000.0
    k_factor: float = STANDARD_K_FACTOR
    scan_phase_s: float = 0.0
    rcs_by_kind: tuple[tuple[str, RcsTable], ...] = DEFAULT_RCS_BY_KIND

    def __post_init__(self) -> None:
        if not isinstance(self.reporting, Reporting):
            raise InputError(f"reporting: {self.reporting!r} is not a Reporting")
        if not isinstance(self.platform, FixedSite | ShipRoute):
            raise InputError(f"platform: {self.platform!r} is not a FixedSite or ShipRoute")
        for name in (
            "revisit_s",
            "max_range_m",
            "snr_ref",
            "range_ref_m",
            "rcs_ref_m2",
            "az_half_width_rad",
            "beamwidth_rad",
            "range_resolution_m",
            "range_rate_resolution_m_s",
            "monopulse_slope",
            "max_range_rate_m_s",
            "k_factor",
        ):
            object.__setattr__(self, name, positive(getattr(self, name), name))
        for name in ("angle_sigma_floor_rad", "range_sigma_floor_m", "range_rate_sigma_floor_m_s"):
            object.__setattr__(self, name, non_negative(getattr(self, name), name))
        for name in ("boresight_az_rad", "scan_phase_s"):
            object.__setattr__(self, name, finite(getattr(self, name), name))
        pfa = finite(self.pfa, "pfa")
        if not 0.0 < pfa < 1.0:
            raise InputError(f"pfa: {self.pfa!r} outside (0, 1)")
        object.__setattr__(self, "pfa", pfa)
        self._check_elevation()
        bias = tuple(self.bias)
        if len(bias) != 4:
            raise InputError(f"bias: {len(bias)} values; expected (range, az, el, range-rate)")
        object.__setattr__(
            self, "bias", tuple(finite(b, f"bias[{i}]") for i, b in enumerate(bias))
        )
        for i, entry in enumerate(self.rcs_by_kind):
            if len(entry) != 2 or not isinstance(entry[1], RcsTable):
                raise InputError(f"rcs_by_kind[{i}]: expected a (kind, RcsTable) pair")

    def _check_elevation(self) -> None:
        low = _latitude(self.el_min_rad, "el_min_rad")
        high = _latitude(self.el_max_rad, "el_max_rad")
        if low > high:
            raise InputError(
                f"el_min_rad: {low!r} rad is above el_max_rad {high!r} rad; "
                "field-of-regard limits reversed (need min <= max)"
            )
        object.__setattr__(self, "el_min_rad", low)
        object.__setattr__(self, "el_max_rad", high)

    # ------------------------------------------------------------------ platform

    def position_velocity_ecef(self, t_s) -> tuple[np.ndarray, np.ndarray]:
        """ECEF position (m) and velocity (m/s) of the antenna at times ``t_s`` (K,).

        Returns
        -------
        r_ecef_m, v_ecef_m_s : ndarray, shape (K, 3)
        """
        return self.platform.position_velocity_ecef(t_s)

    # ------------------------------------------------------------ radar physics

    def snr(self, range_m, rcs_m2) -> np.ndarray:
        """Mean SNR (linear) from the scaled radar equation.

        ``snr_ref (range_ref_m / range_m)^4 (rcs_m2 / rcs_ref_m2)``; shapes broadcast.

        References
        ----------
        .. [1] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., 2001, ch. 2.
        """
        ratio = self.range_ref_m / np.asarray(range_m, dtype=float)
        ratio2 = ratio * ratio
        return self.snr_ref * ratio2 * ratio2 * (np.asarray(rcs_m2) / self.rcs_ref_m2)

    def measurement_sigmas(self, snr, elevation_rad) -> np.ndarray:
        """One-sigma noise of (range m, azimuth rad, elevation rad, range-rate m/s).

        Parameters
        ----------
        snr : array_like, shape (...)
            Mean SNR, linear, > 0.
        elevation_rad : array_like, shape (...)
            Elevation of the target, rad (the azimuth sigma grows as 1/cos).

        Returns
        -------
        ndarray, shape (..., 4)

        References
        ----------
        .. [1] M. A. Richards, J. A. Scheer, W. A. Holm, *Principles of Modern Radar:
           Basic Principles*, SciTech, 2010, ch. 18.
        .. [2] D. K. Barton, *Radar System Analysis and Modeling*, Artech House, 2005,
           ch. 7-8.
        """
        root = np.sqrt(2.0 * np.asarray(snr, dtype=float))
        angle = np.hypot(
            self.angle_sigma_floor_rad, self.beamwidth_rad / (self.monopulse_slope * root)
        )
        cos_el = np.maximum(np.cos(np.asarray(elevation_rad, dtype=float)), _MIN_COS_EL)
        range_sigma = np.hypot(self.range_sigma_floor_m, self.range_resolution_m / root)
        rate_sigma = np.hypot(
            self.range_rate_sigma_floor_m_s, self.range_rate_resolution_m_s / root
        )
        return np.stack(
            np.broadcast_arrays(range_sigma, angle / cos_el, angle, rate_sigma), axis=-1
        )

    @property
    def resolution_cells(self) -> float:
        """Resolution cells of the surveillance volume: range x azimuth x elevation."""
        range_cells = self.max_range_m / self.range_resolution_m
        az_cells = 2.0 * min(self.az_half_width_rad, math.pi) / self.beamwidth_rad
        el_cells = (self.el_max_rad - self.el_min_rad) / self.beamwidth_rad
        return range_cells * max(az_cells, 1.0) * max(el_cells, 1.0)

    @property
    def expected_false_alarms_per_scan(self) -> float:
        """Mean false alarms per scan, ``pfa x resolution_cells``."""
        return self.pfa * self.resolution_cells

    # ------------------------------------------------------------------ geometry

    def _rcs(self, aspect: np.ndarray, phase: np.ndarray, kind) -> np.ndarray:
        """RCS (m^2) on the (B, K) grid from each object's kind, phase and aspect."""
        rcs = np.full(aspect.shape, self.rcs_ref_m2)
        if kind is None:
            return rcs
        kinds = np.broadcast_to(np.asarray(kind, dtype=object), aspect.shape[:1])[:, None]
        tables = dict(self.rcs_by_kind)
        for name, table in tables.items():
            if name == "boost":
                continue
            rcs = np.where(kinds == name, table.rcs_at(aspect), rcs)
        if "boost" in tables:
            rcs = np.where(phase == PHASE_CODE["boost"], tables["boost"].rcs_at(aspect), rcs)
        return rcs

    def _in_field_of_regard(self, az: np.ndarray, el: np.ndarray) -> np.ndarray:
        off = (az - self.boresight_az_rad + math.pi) % _TWO_PI - math.pi
        in_az = np.abs(off) <= self.az_half_width_rad if self.az_half_width_rad < math.pi else True
        return in_az & (el >= self.el_min_rad) & (el <= self.el_max_rad)

    def _geometry(self, truth: TruthSamples) -> _Geometry:
        """Range, angles, range-rate, aspect and coverage of every object at every time."""
        t = np.asarray(truth.t, dtype=float)
        sensor_r, sensor_v = self.position_velocity_ecef(t)
        sensor_lla = self.platform.lla_at(t)
        r_t, v_t = truth.r_ecef_m, truth.v_ecef_m_s
        with np.errstate(invalid="ignore", divide="ignore"):
            aer = enu_to_aer(ecef_to_enu(r_t, sensor_lla, check=False))
            slant = aer[..., 0]
            dr = r_t - sensor_r
            dv = v_t - sensor_v
            range_rate = np.sum(dr * dv, axis=-1) / slant
            speed = np.sqrt(np.sum(v_t * v_t, axis=-1))
            cos_aspect = -np.sum(dr * v_t, axis=-1) / (slant * speed)
            aspect = np.where(speed > 0.0, np.arccos(np.clip(cos_aspect, -1.0, 1.0)), _HALF_PI)
            covered = (
                truth.valid
                & (slant > 0.0)
                & (slant <= self.max_range_m)
                & self._in_field_of_regard(aer[..., 1], aer[..., 2])
            )
        covered &= line_of_sight(sensor_r, r_t, k_factor=self.k_factor)
        return _Geometry(sensor_r, sensor_v, aer, range_rate, aspect, covered)

    def detection_probability(self, truth: TruthSamples, kind=None) -> np.ndarray:
        """Probability of detecting each object at each time of ``truth``.

        Parameters
        ----------
        truth : TruthSamples
            B objects at K times.
        kind : str or array_like of str, shape (B,), optional
            Threat kind of each object, for its RCS table (``Trajectory.kind``).
            ``None``: every object has the reference RCS ``rcs_ref_m2``.

        Returns
        -------
        ndarray, shape (B, K)
            Swerling 1 Pd; 0 where the object does not exist, is out of the field of
            regard, beyond ``max_range_m`` or below the 4/3-Earth horizon.
        """
        return self._pd(truth, self._geometry(truth), kind)[0]

    def _pd(self, truth: TruthSamples, geometry: _Geometry, kind) -> tuple[np.ndarray, np.ndarray]:
        rcs = self._rcs(geometry.aspect, truth.phase, kind)
        with np.errstate(invalid="ignore", divide="ignore"):
            snr = self.snr(geometry.aer[..., 0], rcs)
            pd = np.where(
                geometry.covered, pd_swerling1(np.where(geometry.covered, snr, 0.0), self.pfa), 0.0
            )
        return pd, snr

    # ------------------------------------------------------------------ reports

    def detect(self, truth: TruthSamples, rng: np.random.Generator, kind=None) -> pa.Table:
        """Detections of the objects in ``truth`` at its times, plus false alarms.

        Each (object, time) is detected with its Swerling 1 Pd; a detection reports
        the true range, azimuth, elevation and range-rate plus the bias plus Gaussian
        noise of :meth:`measurement_sigmas`. Each time of ``truth`` is one scan with
        its false alarms (module docstring).

        Parameters
        ----------
        truth : TruthSamples
            B objects at the K scan times.
        rng : numpy.random.Generator
            Source of every random draw.
        kind : str or array_like of str, shape (B,), optional
            Threat kinds for the RCS tables (see :meth:`detection_probability`).

        Returns
        -------
        pyarrow.Table
            Detections table, ``meas_type='raer'``, rows in time order.
        """
        geometry = self._geometry(truth)
        pd, snr = self._pd(truth, geometry, kind)
        hit = rng.random(pd.shape) < pd
        k_index, b_index = np.nonzero(hit.T)  # time-major order
        tables = [self._true_reports(truth, geometry, snr, b_index, k_index, rng)]
        tables.append(self._false_alarms(truth.t, geometry, rng))
        return concat_detections([table for table in tables if table.num_rows])

    def _report(self, t, z, sigma, snr, sensor_r, sensor_v, truth_id, false_alarm) -> pa.Table:
        if t.size == 0:
            return empty_detections()
        covariance = np.zeros((t.size, 4, 4))
        idx = np.arange(4)
        covariance[:, idx, idx] = sigma * sigma
        return make_detections(
            t=t,
            t_report=t + self.reporting.report_latency_s,
            sensor_id=self.reporting.sensor_id,
            node=self.reporting.node,
            meas_type="raer",
            z=z,
            R=covariance,
            sensor_r_ecef_m=sensor_r,
            sensor_v_ecef_m_s=sensor_v,
            snr=snr,
            truth_id=truth_id,
            false_alarm=false_alarm,
            marking=self.reporting.marking,
        )

    def _true_reports(self, truth, geometry, snr, b_index, k_index, rng) -> pa.Table:
        aer = geometry.aer[b_index, k_index]
        truth_z = np.column_stack((aer, geometry.range_rate[b_index, k_index]))
        snr_hit = snr[b_index, k_index]
        sigma = self.measurement_sigmas(snr_hit, aer[:, 2])
        z = truth_z + np.asarray(self.bias) + sigma * rng.standard_normal(truth_z.shape)
        z[:, 1] = _wrap_azimuth(z[:, 1])
        t = np.asarray(truth.t, dtype=float)[k_index]
        return self._report(
            t,
            z,
            sigma,
            snr_hit,
            geometry.sensor_r[k_index],
            geometry.sensor_v[k_index],
            b_index.astype(np.int64),
            False,
        )

    def _false_alarms(self, t_s, geometry: _Geometry, rng: np.random.Generator) -> pa.Table:
        t_s = np.asarray(t_s, dtype=float)
        counts = rng.poisson(self.expected_false_alarms_per_scan, size=t_s.size)
        scan = np.repeat(np.arange(t_s.size), counts)
        n = scan.size
        width = min(self.az_half_width_rad, math.pi)
        z = np.column_stack(
            (
                rng.uniform(0.0, self.max_range_m, n),
                _wrap_azimuth(self.boresight_az_rad + rng.uniform(-width, width, n)),
                rng.uniform(self.el_min_rad, self.el_max_rad, n),
                rng.uniform(-self.max_range_rate_m_s, self.max_range_rate_m_s, n),
            )
        )
        snr = -math.log(self.pfa) + rng.exponential(1.0, n)
        sigma = self.measurement_sigmas(snr, z[:, 2])
        return self._report(
            t_s[scan],
            z,
            sigma,
            snr,
            geometry.sensor_r[scan],
            geometry.sensor_v[scan],
            np.full(n, -1, dtype=np.int64),
            True,
        )

    def observe(
        self,
        trajectory: Trajectory,
        rng: np.random.Generator,
        t_start_s: float | None = None,
        t_end_s: float | None = None,
    ) -> pa.Table:
        """Scan the objects of ``trajectory`` every ``revisit_s`` over its span.

        Parameters
        ----------
        trajectory : Trajectory
            Truth of B objects; ``truth_id`` in the reports is the object index.
        rng : numpy.random.Generator
            Source of every random draw.
        t_start_s, t_end_s : float, optional
            Span to scan, s; default the trajectory's first and last sample times.

        Returns
        -------
        pyarrow.Table
            Detections table (``meas_type='raer'``), false alarms included
            (``truth_id=-1``, ``false_alarm=True``), in time order.
        """
        t0 = float(np.min(trajectory.t)) if t_start_s is None else t_start_s
        t1 = float(np.max(trajectory.t)) if t_end_s is None else t_end_s
        times = look_times(t0, t1, self.revisit_s, self.scan_phase_s)
        if times.size == 0:
            return empty_detections()
        return self.detect(truth_at(trajectory, times), rng, kind=trajectory.kind)


# -------------------------------------------------------------------------- presets

_RADAR_FIELDS = frozenset(f.name for f in fields(Radar))


def _build(base: dict, overrides: dict) -> Radar:
    unknown = sorted(set(overrides) - _RADAR_FIELDS)
    if unknown:
        raise InputError(f"{unknown[0]}: not a Radar parameter")
    return Radar(**{**base, **overrides})


def s_band_ship_radar(
    reporting: Reporting,
    lat_deg: float | None = None,
    lon_deg: float | None = None,
    *,
    route: ShipRoute | None = None,
    antenna_height_m: float = 20.0,
    **overrides,
) -> Radar:
    """An S-band ship's ballistic-missile-defence radar of the AN/SPY-1 / SPY-6 class.

    Calibration (assumed, from open claims): a 1 m^2 Swerling 1 target is detected with
    Pd 0.9 per scan at 400 km (Pfa 1e-8, so ``snr_ref`` = 22.4 dB). Open sources put an
    AN/SPY-1D at a few hundred kilometres on such targets and credit AN/SPY-6(V)1 with
    about 30 times (15 dB) its sensitivity, "half the size at twice the distance"; 400
    km sits between the two. Four faces cover all round (az half-width 180 deg), 0-90
    deg elevation; beamwidth 1.7 deg (assumed: a tapered aperture of about 3.7 m, the
    commonly quoted SPY-1 face, at 3.3 GHz gives about 1.3 lambda / D); 25 m range
    resolution;
    10 m/s range-rate resolution (S-band, about 5 ms dwell); instrumented range 1,000
    km (BMD search); revisit 2 s; antenna 20 m above the sea.

    Parameters
    ----------
    reporting : Reporting
    lat_deg, lon_deg : float, optional
        Position of a ship holding station, deg. Give these or ``route``.
    route : ShipRoute, optional
        A ship sailing a route.
    antenna_height_m : float
        Antenna height above the sea for a ship holding station, m.
    **overrides
        Any other :class:`Radar` field.

    References
    ----------
    .. [1] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., 2001, ch. 2
       (radar equation scaling) and sec. 2.8 (Swerling 1).
    .. [2] U.S. Navy / Raytheon public statements on AN/SPY-6(V)1 Air and Missile
       Defense Radar: "more than 30 times" the sensitivity of AN/SPY-1D(V).
    .. [3] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., 2001, ch. 9
       (beamwidth of a tapered aperture, about 1.3 lambda / D).
    """
    if (route is None) == (lat_deg is None or lon_deg is None):
        raise InputError("lat_deg, lon_deg / route: give a station (lat_deg, lon_deg) or a route")
    platform = route if route is not None else _ship_station(lat_deg, lon_deg, antenna_height_m)
    pfa = 1e-8
    base = dict(
        reporting=reporting,
        platform=platform,
        revisit_s=2.0,
        max_range_m=1_000_000.0,
        snr_ref=snr_for_pd_swerling1(0.9, pfa),
        range_ref_m=400_000.0,
        rcs_ref_m2=1.0,
        pfa=pfa,
        az_half_width_rad=math.pi,
        el_min_rad=0.0,
        el_max_rad=_HALF_PI,
        beamwidth_rad=math.radians(1.7),
        range_resolution_m=25.0,
        range_rate_resolution_m_s=10.0,
        angle_sigma_floor_rad=3e-4,
        range_sigma_floor_m=5.0,
        range_rate_sigma_floor_m_s=0.5,
    )
    return _build(base, overrides)


def _ship_station(lat_deg, lon_deg, antenna_height_m) -> FixedSite:
    height = finite(antenna_height_m, "antenna_height_m")
    low, high = ANTENNA_HEIGHT_LIMITS_M
    if not low <= height <= high:
        raise InputError(f"antenna_height_m: {height!r} m outside [{low:g}, {high:g}] for a ship")
    lat = finite(lat_deg, "lat_deg")
    if abs(lat) > 90.0:
        raise InputError(f"lat_deg: {lat!r} outside [-90, 90]")
    return FixedSite(math.radians(lat), math.radians(finite(lon_deg, "lon_deg")), height)


def x_band_ground_radar(
    reporting: Reporting,
    lat_deg: float,
    lon_deg: float,
    boresight_az_deg: float,
    *,
    alt_m: float = 0.0,
    **overrides,
) -> Radar:
    """A transportable X-band ground radar of the AN/TPY-2 class (forward-based mode).

    Calibration (assumed): a 1 m^2 Swerling 1 target is detected with Pd 0.9 per scan
    at 1,500 km (Pfa 1e-9, ``snr_ref`` = 22.9 dB), the range the U.S. National Research
    Council's 2012 study draws for TPY-2 radars (its Fig. 5-8, as read by Lewis and
    Postol, who argue for smaller values). A reentry vehicle of 0.01-0.1 m^2 is then
    detected at roughly 500-1,000 km. One face: azimuth +-60 deg about the boresight,
    elevation 0.5-80 deg; beamwidth 0.53 deg (9.2 m^2 array at 9.5 GHz: 0.886
    lambda / D); 15 m range resolution; 2 m/s range-rate resolution; instrumented range
    3,000 km; revisit 1 s.

    Parameters
    ----------
    reporting : Reporting
    lat_deg, lon_deg : float
        Site, deg.
    boresight_az_deg : float
        Face boresight azimuth, deg from north.
    alt_m : float
        Site altitude, m, in [-500, 9000].
    **overrides
        Any other :class:`Radar` field.

    References
    ----------
    .. [1] National Research Council, *Making Sense of Ballistic Missile Defense*,
       National Academies Press, 2012, doi:10.17226/13189, Fig. 5-8.
    .. [2] G. Lewis, T. Postol, "Ballistic Missile Defense: Radar Range Calculations for
       the AN/TPY-2 X-Band and NAS Proposed GBX Radars", mostlymissiledefense.com,
       21 September 2012 (open estimates of TPY-2 aperture, power and range).
    .. [3] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., 2001, ch. 2 and 9
       (beamwidth of an aperture).
    """
    lat = finite(lat_deg, "lat_deg")
    if abs(lat) > 90.0:
        raise InputError(f"lat_deg: {lat!r} outside [-90, 90]")
    platform = FixedSite(math.radians(lat), math.radians(finite(lon_deg, "lon_deg")), alt_m)
    pfa = 1e-9
    base = dict(
        reporting=reporting,
        platform=platform,
        revisit_s=1.0,
        max_range_m=3_000_000.0,
        snr_ref=snr_for_pd_swerling1(0.9, pfa),
        range_ref_m=1_500_000.0,
        rcs_ref_m2=1.0,
        pfa=pfa,
        boresight_az_rad=math.radians(finite(boresight_az_deg, "boresight_az_deg")),
        az_half_width_rad=math.radians(60.0),
        el_min_rad=math.radians(0.5),
        el_max_rad=math.radians(80.0),
        beamwidth_rad=math.radians(0.53),
        range_resolution_m=15.0,
        range_rate_resolution_m_s=2.0,
        angle_sigma_floor_rad=1e-4,
        range_sigma_floor_m=2.0,
        range_rate_sigma_floor_m_s=0.2,
    )
    return _build(base, overrides)
