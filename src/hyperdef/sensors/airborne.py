"""Airborne ISR: an MQ-9-class aircraft on a racetrack orbit with a radar and an EO/IR sensor.

The aircraft flies a racetrack (:class:`Racetrack`): two straight legs joined by two
half-circle turns (right-hand turns, as in a standard holding pattern), at constant
altitude and true airspeed, in closed form at any times. It carries

- a radar (:class:`AirborneRadar`, ``meas_type`` ``raer`` or ``rae``): the radar equation
  scaled from one calibration point, ``SNR = snr_ref (range_ref_m / R)^4 (rcs / rcs_ref)``,
  Swerling 1 detection ``Pd = pfa ** (1 / (1 + SNR))``
  (:func:`hyperdef.sensors.radar.pd_swerling1`) and the radar module's RCS tables by
  threat kind and aspect; fixed Gaussian measurement sigmas;
- an EO/IR sensor (:class:`AirborneEoIr`, ``meas_type`` ``los``) detecting the threats'
  in-band infrared intensity (:func:`hyperdef.sensors.infrared.target_intensity_w_sr`)
  against its noise-equivalent irradiance, up to a maximum range, as the space layer
  does ([Campana]_).

Each sensor has a field of regard fixed to the aircraft (:class:`FieldOfRegard`):
azimuth limits relative to the nose (the velocity direction, positive to the right),
elevation limits in the local level frame. Bank and pitch are not applied: the
sensors are taken as stabilised (a gimballed turret, a stabilised antenna).

Navigation error (:class:`Navigation`)
    At each look of each sensor the aircraft's navigation solution is off by an
    independent draw (white in time, shared by every report of that look): an
    isotropic position error ``N(0, position_sigma_m^2 I_3)`` and a boresight attitude
    error of ``N(0, attitude_sigma_rad^2)`` in azimuth (yaw) and in elevation (pitch).
    The measurement is made from where the aircraft truly is, in the attitude it
    truly has; the report carries the *navigated* sensor position. To first order
    the error of the report against the navigated position is then the sensor noise
    plus ``J dp`` plus the attitude error, and R adds ``sigma_p^2 diag(1, 1 / (R
    cos el)^2, 1 / R^2)`` for (range, az, el) and ``sigma_att^2`` to each angle. The
    range-rate is left unaffected (a navigation velocity error of centimetres per
    second is neglected).
Reporting
    The reports belong to the node that operates the aircraft and carry its marking
    (:class:`~hyperdef.sensors.base.Reporting`); ``t_report = t + report_latency_s``,
    the data-link delay (of order a second over a line-of-sight link, more over a
    satellite relay). The radar reports as ``f"{sensor_id}-radar"``, the EO/IR as
    ``f"{sensor_id}-eoir"``.

MQ-9 figures ([USAF]_): ceiling 50,000 ft (15.2 km), cruise speed 230 mph (103 m/s),
endurance 27 h, wingspan 66 ft. The default racetrack flies at 15 km and 90 m/s (a
loiter speed below the quoted cruise); altitudes from 0 to 20 km are accepted for an
aircraft of the class.

References
----------
.. [USAF] U.S. Air Force, "MQ-9 Reaper" fact sheet, af.mil (ceiling 50,000 ft, cruise
   speed 230 mph, range 1,150 miles, sensors: infrared, TV, synthetic aperture radar).
.. [Skolnik] M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill,
   2001, ch. 2 (radar equation; Swerling models).
.. [Richards] M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed.,
   McGraw-Hill, 2014, ch. 6 (Swerling 1, false alarms per resolution cell).
.. [Campana] S. B. Campana (ed.), *Passive Electro-Optical Systems*, IR/EO Systems
   Handbook vol. 5, SPIE/ERIM, 1993 (IRST range equation, NEI).
.. [FAA] FAA, *Instrument Procedures Handbook*, FAA-H-8083-16B, 2017 (holding
   patterns: right-hand racetrack turns).
.. [Anderson] J. D. Anderson, *Introduction to Flight*, 8th ed., McGraw-Hill, 2016,
   ch. 6 (level turn: radius ``V^2 / (g tan bank)``).
.. [GPS] U.S. DoD, *Global Positioning System Standard Positioning Service Performance
   Standard*, 5th ed., 2020 (metre-level position accuracy).
.. [BarShalom] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications
   to Tracking and Navigation*, Wiley, 2001 (measurement covariance by linearisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pyarrow as pa
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

from hyperdef.checks import finite, non_negative, positive
from hyperdef.core.earth import G0_M_S2
from hyperdef.core.frames import (
    ecef_to_enu,
    ecef_to_lla,
    ecef_vector_to_enu,
    enu_to_aer,
    enu_to_ecef,
    enu_vector_to_ecef,
    lla_to_ecef,
    local_up_ecef,
)
from hyperdef.core.markings import check_node
from hyperdef.errors import InputError
from hyperdef.sensors.base import Reporting, look_times
from hyperdef.sensors.detections import concat_detections, empty_detections, make_detections
from hyperdef.sensors.infrared import (
    MWIR_BAND_M,
    InfraredSignature,
    _perturbed_angles,
    atmospheric_transmission,
    detection_probability_gaussian,
    earth_behind,
    target_intensity_w_sr,
)
from hyperdef.sensors.radar import DEFAULT_RCS_BY_KIND, RcsTable, pd_swerling1, snr_for_pd_swerling1
from hyperdef.sensors.truth import TruthSamples, truth_at
from hyperdef.sensors.visibility import STANDARD_K_FACTOR, line_of_sight
from hyperdef.threats.trajectory import PHASE_CODE, Trajectory

__all__ = [
    "AIRCRAFT_ALT_LIMITS_M",
    "MQ9_CEILING_M",
    "MQ9_CRUISE_SPEED_M_S",
    "Racetrack",
    "FieldOfRegard",
    "Navigation",
    "AirborneRadar",
    "AirborneEoIr",
    "AirborneIsr",
]

#: MQ-9 service ceiling, 50,000 ft ([USAF])
MQ9_CEILING_M: float = 50_000 * 0.3048
#: MQ-9 cruise speed, 230 mph ([USAF])
MQ9_CRUISE_SPEED_M_S: float = 230 * 0.44704
#: altitudes accepted for an aircraft, m
AIRCRAFT_ALT_LIMITS_M: tuple[float, float] = (0.0, 20_000.0)

_TWO_PI = 2.0 * math.pi
_HALF_PI = 0.5 * math.pi
_MIN_COS_EL = 1e-2  # as the radar module: azimuth sigma at most 100 x the angle sigma








# ------------------------------------------------------------------ the orbit


@dataclass(frozen=True, slots=True)
class Racetrack:
    """A racetrack orbit flown at constant altitude and speed, right-hand turns.

    The circuit, in the local tangent plane at the centre with x along
    ``heading_rad`` and y to its right: leg 1 from (-L/2, -rho) to (L/2, -rho), a
    right turn about (L/2, 0) to (L/2, rho), leg 2 back to (-L/2, rho), a right turn
    about (-L/2, 0) back to the start. The perimeter is ``2 L + 2 pi rho``; the
    distance flown at time t is ``start_m + speed_m_s t`` (mod perimeter). Points of the
    tangent plane are carried to the ellipsoid along the geodetic vertical and set at
    ``altitude_m`` (a distortion of order (d / R)^2, 1e-5 at 20 km); the velocity is the
    along-track direction, made horizontal at the point, times the speed.

    Attributes
    ----------
    center_lat_rad, center_lon_rad : float
        Geodetic centre of the racetrack, rad.
    altitude_m : float
        Altitude above the ellipsoid, m, in [0, 20000] (default 15 km, near the MQ-9's
        50,000 ft ceiling).
    heading_rad : float
        Direction of leg 1, rad from north towards east.
    leg_length_m : float
        Length L of each straight leg, m, >= 0 (0: a circular orbit).
    speed_m_s : float
        Ground speed, m/s, > 0 (no wind).
    turn_radius_m : float or None
        Turn radius rho, m; None: ``speed^2 / (g0 tan bank_rad)``.
    bank_rad : float
        Bank angle of the turns when the radius is derived, rad, in (0, 60 deg].
    start_m : float
        Distance along the circuit at t = 0 from the start of leg 1, m.

    References
    ----------
    .. [1] J. D. Anderson, *Introduction to Flight*, 8th ed., McGraw-Hill, 2016, ch. 6
       (level-turn radius).
    .. [2] FAA-H-8083-16B, *Instrument Procedures Handbook*, 2017 (holding patterns).
    """

    center_lat_rad: float
    center_lon_rad: float
    altitude_m: float = 15_000.0
    heading_rad: float = 0.0
    leg_length_m: float = 40_000.0
    speed_m_s: float = 90.0
    turn_radius_m: float | None = None
    bank_rad: float = math.radians(20.0)
    start_m: float = 0.0

    def __post_init__(self) -> None:
        lat = finite(self.center_lat_rad, "center_lat_rad")
        if abs(lat) > _HALF_PI:
            raise InputError(f"center_lat_rad: {math.degrees(lat):.6g} deg outside [-90, 90]")
        finite(self.center_lon_rad, "center_lon_rad")
        alt = finite(self.altitude_m, "altitude_m")
        low, high = AIRCRAFT_ALT_LIMITS_M
        if not low <= alt <= high:
            raise InputError(f"altitude_m: {alt!r} m outside [{low:g}, {high:g}] m for an aircraft")
        finite(self.heading_rad, "heading_rad")
        non_negative(self.leg_length_m, "leg_length_m")
        positive(self.speed_m_s, "speed_m_s")
        bank = positive(self.bank_rad, "bank_rad")
        if bank > math.radians(60.0):
            raise InputError(f"bank_rad: {math.degrees(bank):.6g} deg outside (0, 60] deg")
        if self.turn_radius_m is not None:
            positive(self.turn_radius_m, "turn_radius_m")
        finite(self.start_m, "start_m")

    @property
    def radius_m(self) -> float:
        """Turn radius, m (given, or from speed and bank)."""
        if self.turn_radius_m is not None:
            return float(self.turn_radius_m)
        return self.speed_m_s**2 / (G0_M_S2 * math.tan(self.bank_rad))

    @property
    def perimeter_m(self) -> float:
        """Length of one circuit, m."""
        return 2.0 * self.leg_length_m + _TWO_PI * self.radius_m

    @property
    def period_s(self) -> float:
        """Time of one circuit, s."""
        return self.perimeter_m / self.speed_m_s

    def _plane(self, t_s: ArrayLike):
        """Track-frame position (x fwd, y right) and unit direction, shape (K,) each."""
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64)).reshape(-1)
        leg, rho = self.leg_length_m, self.radius_m
        half = leg + math.pi * rho
        s = (self.start_m + self.speed_m_s * t) % (2.0 * half)
        second = s >= half
        s = np.where(second, s - half, s)
        on_leg = s < leg
        theta = np.where(on_leg, 0.0, (s - leg) / rho)
        x = np.where(on_leg, -0.5 * leg + s, 0.5 * leg + rho * np.sin(theta))
        y = -rho * np.cos(theta)  # -rho on the leg (theta 0)
        dx, dy = np.cos(theta), np.sin(theta)
        sign = np.where(second, -1.0, 1.0)  # the second half is the first turned by pi
        return sign * x, sign * y, sign * dx, sign * dy

    def _enu(self, t_s: ArrayLike):
        x, y, dx, dy = self._plane(t_s)
        sh, ch = math.sin(self.heading_rad), math.cos(self.heading_rad)
        # forward (sin h, cos h), right (cos h, -sin h) in (east, north)
        east, north = x * sh + y * ch, x * ch - y * sh
        v_east, v_north = dx * sh + dy * ch, dx * ch - dy * sh
        return east, north, v_east, v_north

    def _centre_lla(self) -> NDArray[np.float64]:
        return np.array([self.center_lat_rad, self.center_lon_rad, self.altitude_m])

    def lla_at(self, t_s: ArrayLike) -> NDArray[np.float64]:
        """Geodetic (lat rad, lon rad, alt m) of the aircraft at times ``t_s`` (K,): (K, 3)."""
        east, north, _, _ = self._enu(t_s)
        plane = enu_to_ecef(
            np.stack((east, north, np.zeros_like(east)), axis=-1), self._centre_lla()
        )
        lla = ecef_to_lla(plane)
        lla[:, 2] = self.altitude_m
        return lla

    def position_velocity_ecef(
        self, t_s: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """ECEF position (m) and Earth-relative velocity (m/s), shape (K, 3) each.

        The velocity is the along-track direction of the tangent plane, made
        horizontal at the aircraft's own position (the ENU axes there are turned from
        the centre's by the meridian convergence), times the speed.
        """
        _, _, v_east, v_north = self._enu(t_s)
        lla = self.lla_at(t_s)
        direction = enu_vector_to_ecef(
            np.stack((v_east, v_north, np.zeros_like(v_east)), axis=-1), self._centre_lla()
        )
        up = local_up_ecef(lla, check=False)
        direction -= np.sum(direction * up, axis=-1, keepdims=True) * up
        direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
        return lla_to_ecef(lla, check=False), self.speed_m_s * direction

    def heading_at(self, t_s: ArrayLike) -> NDArray[np.float64]:
        """Direction of flight (the nose), rad from north in [0, 2 pi), shape (K,)."""
        _, v = self.position_velocity_ecef(t_s)
        v_enu = ecef_vector_to_enu(v, self.lla_at(t_s), check=False)
        return np.arctan2(v_enu[:, 0], v_enu[:, 1]) % _TWO_PI


# ------------------------------------------------------------------ sensors


@dataclass(frozen=True, slots=True)
class FieldOfRegard:
    """Angular limits of a sensor on the aircraft.

    Attributes
    ----------
    az_min_rad, az_max_rad : float
        Azimuth limits relative to the nose (direction of flight), rad, positive to
        the right (clockwise seen from above), within [-pi, pi], min < max.
    el_min_rad, el_max_rad : float
        Elevation limits in the local level frame, rad, within [-pi/2, pi/2],
        min < max.
    """

    az_min_rad: float = -math.pi
    az_max_rad: float = math.pi
    el_min_rad: float = -_HALF_PI
    el_max_rad: float = _HALF_PI

    def __post_init__(self) -> None:
        for low, high, limit in (
            ("az_min_rad", "az_max_rad", math.pi),
            ("el_min_rad", "el_max_rad", _HALF_PI),
        ):
            lo, hi = finite(getattr(self, low), low), finite(getattr(self, high), high)
            for name, value in ((low, lo), (high, hi)):
                if abs(value) > limit + 1e-12:
                    raise InputError(
                        f"{name}: {value!r} rad outside [-{limit:.6g}, {limit:.6g}] rad"
                    )
            if lo >= hi:
                raise InputError(
                    f"{low}: {lo!r} rad is not below {high} {hi!r} rad; field-of-regard "
                    "limits reversed (need min < max)"
                )

    def contains(self, relative_az_rad: ArrayLike, el_rad: ArrayLike) -> NDArray[np.bool_]:
        """Whether directions (azimuth from the nose wrapped to [-pi, pi), elevation) are inside."""
        rel = np.asarray(relative_az_rad, dtype=np.float64)
        el = np.asarray(el_rad, dtype=np.float64)
        return (
            (rel >= self.az_min_rad)
            & (rel <= self.az_max_rad)
            & (el >= self.el_min_rad)
            & (el <= self.el_max_rad)
        )

    @property
    def solid_angle_sr(self) -> float:
        """Solid angle of the field of regard, sr."""
        return (self.az_max_rad - self.az_min_rad) * (
            math.sin(self.el_max_rad) - math.sin(self.el_min_rad)
        )


@dataclass(frozen=True, slots=True)
class Navigation:
    """Navigation (GPS/INS) error of the aircraft, drawn independently at every look.

    Attributes
    ----------
    position_sigma_m : float
        One-sigma position error per axis, m, >= 0 (3 m: GPS SPS class, [GPS]_).
    attitude_sigma_rad : float
        One-sigma boresight error in azimuth and in elevation, rad, >= 0 (0.5 mrad:
        a navigation-grade INS with boresight alignment).
    """

    position_sigma_m: float = 3.0
    attitude_sigma_rad: float = 5e-4

    def __post_init__(self) -> None:
        non_negative(self.position_sigma_m, "position_sigma_m")
        non_negative(self.attitude_sigma_rad, "attitude_sigma_rad")


@dataclass(frozen=True, slots=True)
class AirborneRadar:
    """A notional air-to-air mode radar of an MQ-9-class aircraft (assumed parameters).

    Attributes
    ----------
    meas_type : {'raer', 'rae'}
        Report range-rate or not.
    revisit_s : float
        Time between looks, s.
    snr_ref, range_ref_m, rcs_ref_m2 : float
        Calibration: mean SNR (linear) on ``rcs_ref_m2`` at ``range_ref_m``. Default: a
        1 m^2 Swerling 1 target at Pd 0.5 at 100 km with pfa 1e-6 (assumed for a
        small X-band aperture).
    pfa : float
        False-alarm probability per resolution cell and look.
    false_alarm_cells : float
        Resolution cells searched per look (false alarms per look: ``pfa * cells``).
    max_range_m : float
        Instrumented range, m.
    max_range_rate_m_s : float
        Half-width of the range-rate window of false alarms, m/s.
    range_sigma_m, angle_sigma_rad, range_rate_sigma_m_s : float
        One-sigma measurement noise; the angle sigma is across the line of sight (the
        azimuth sigma is it over cos el).
    field_of_regard : FieldOfRegard
        Default: +-90 deg about the nose, -90 to +30 deg elevation.
    rcs_by_kind : tuple of (str, RcsTable)
        RCS tables of :mod:`hyperdef.sensors.radar`.
    scan_phase_s : float
        One look instant, s.
    """

    meas_type: str = "raer"
    revisit_s: float = 2.0
    snr_ref: float = snr_for_pd_swerling1(0.5, 1e-6)
    range_ref_m: float = 100_000.0
    rcs_ref_m2: float = 1.0
    pfa: float = 1e-6
    false_alarm_cells: float = 1e4
    max_range_m: float = 300_000.0
    max_range_rate_m_s: float = 8000.0
    range_sigma_m: float = 20.0
    angle_sigma_rad: float = 3e-3
    range_rate_sigma_m_s: float = 1.0
    field_of_regard: FieldOfRegard = field(
        default_factory=lambda: FieldOfRegard(-_HALF_PI, _HALF_PI, -_HALF_PI, math.radians(30))
    )
    rcs_by_kind: tuple[tuple[str, RcsTable], ...] = DEFAULT_RCS_BY_KIND
    scan_phase_s: float = 0.0

    def __post_init__(self) -> None:
        if self.meas_type not in ("raer", "rae"):
            raise InputError(f"meas_type: {self.meas_type!r} must be 'raer' or 'rae'")
        for name in (
            "revisit_s",
            "snr_ref",
            "range_ref_m",
            "rcs_ref_m2",
            "max_range_m",
            "max_range_rate_m_s",
            "range_sigma_m",
            "angle_sigma_rad",
            "range_rate_sigma_m_s",
        ):
            positive(getattr(self, name), name)
        non_negative(self.false_alarm_cells, "false_alarm_cells")
        pfa = finite(self.pfa, "pfa")
        if not 0.0 < pfa < 1.0:
            raise InputError(f"pfa: {self.pfa!r} outside (0, 1)")
        if not isinstance(self.field_of_regard, FieldOfRegard):
            raise InputError("field_of_regard: must be a FieldOfRegard")
        finite(self.scan_phase_s, "scan_phase_s")

    @property
    def period_s(self) -> float:
        """Time between looks, s."""
        return self.revisit_s

    @property
    def phase_s(self) -> float:
        """One look instant, s."""
        return self.scan_phase_s


@dataclass(frozen=True, slots=True)
class AirborneEoIr:
    """An EO/IR turret or IRST pod (MWIR) detecting the threats' heat.

    Attributes
    ----------
    band_m : (float, float)
        Band, m.
    nei_w_m2 : float
        Noise-equivalent irradiance, W/m^2 (5e-13: an airborne IRST-class sensor,
        an order above the space layer's, [Campana]_; assumed).
    snr_threshold : float
        Threshold k in noise sigmas; ``Pd = Phi(SNR - k)``.
    earth_background_factor : float
        Factor on the NEI when the Earth is behind the target (look-down).
    angle_sigma_rad : float
        One-sigma angular error across the line of sight, rad.
    max_range_m : float
        Range beyond which nothing is reported (resolution, tracking gate), m.
    frame_period_s, frame_phase_s : float
        Frame period and the time of one frame, s.
    false_alarm_pixels : float
        Independent pixels per frame behind the false alarms (0: none).
    zenith_optical_depth, absorber_scale_height_m : float
        Atmosphere of :func:`~hyperdef.sensors.infrared.atmospheric_transmission`.
    field_of_regard : FieldOfRegard
        Default: all round in azimuth, -90 to +10 deg elevation (a chin turret, the
        fuselage above).
    signature : InfraredSignature
    """

    band_m: tuple[float, float] = MWIR_BAND_M
    nei_w_m2: float = 5e-13
    snr_threshold: float = 6.0
    earth_background_factor: float = 10.0
    angle_sigma_rad: float = 1e-4
    max_range_m: float = 400_000.0
    frame_period_s: float = 1.0
    frame_phase_s: float = 0.0
    false_alarm_pixels: float = 1e5
    zenith_optical_depth: float = 0.7
    absorber_scale_height_m: float = 2000.0
    field_of_regard: FieldOfRegard = field(
        default_factory=lambda: FieldOfRegard(-math.pi, math.pi, -_HALF_PI, math.radians(10))
    )
    signature: InfraredSignature = field(default_factory=InfraredSignature)

    def __post_init__(self) -> None:
        for name in (
            "nei_w_m2",
            "snr_threshold",
            "angle_sigma_rad",
            "max_range_m",
            "frame_period_s",
            "absorber_scale_height_m",
        ):
            positive(getattr(self, name), name)
        for name in ("false_alarm_pixels", "zenith_optical_depth"):
            non_negative(getattr(self, name), name)
        if finite(self.earth_background_factor, "earth_background_factor") < 1.0:
            raise InputError(
                f"earth_background_factor: {self.earth_background_factor!r} must be >= 1"
            )
        finite(self.frame_phase_s, "frame_phase_s")
        lo, hi = (positive(b, "band_m") for b in self.band_m)
        if lo >= hi:
            raise InputError(f"band_m: {self.band_m!r} must be (shortest, longest), m")
        if not isinstance(self.field_of_regard, FieldOfRegard):
            raise InputError("field_of_regard: must be a FieldOfRegard")
        if not isinstance(self.signature, InfraredSignature):
            raise InputError("signature: must be an InfraredSignature")

    @property
    def period_s(self) -> float:
        """Time between frames, s."""
        return self.frame_period_s

    @property
    def phase_s(self) -> float:
        """One frame instant, s."""
        return self.frame_phase_s


@dataclass(frozen=True, slots=True)
class _Looks:
    """Geometry of one sensor's looks at B objects over K times (arrays (B, K))."""

    t: NDArray
    r_true: NDArray  # (K, 3) true aircraft position
    v_true: NDArray  # (K, 3)
    heading: NDArray  # (K,)
    aer: NDArray  # (B, K, 3) range, az, el from the true position
    range_rate: NDArray  # (B, K)
    aspect: NDArray  # (B, K)
    in_view: NDArray  # (B, K) bool: exists, in the field of regard, line of sight


def _relative_az(az: NDArray, heading: NDArray) -> NDArray:
    return (az - heading + math.pi) % _TWO_PI - math.pi


@dataclass(frozen=True, slots=True)
class AirborneIsr:
    """An MQ-9-class ISR aircraft: racetrack orbit, radar and/or EO/IR, navigation error.

    Attributes
    ----------
    kind : str
        ``"airborne"`` (class attribute).
    orbit : Racetrack
    reporting : Reporting
        Sensor name, operating node, releasability and the data-link latency.
    radar : AirborneRadar or None
    eoir : AirborneEoIr or None
    navigation : Navigation

    Raises
    ------
    hyperdef.errors.InputError
        If neither sensor is given, or a part is of the wrong type.
    """

    kind: ClassVar[str] = "airborne"

    orbit: Racetrack
    reporting: Reporting
    radar: AirborneRadar | None = field(default_factory=AirborneRadar)
    eoir: AirborneEoIr | None = field(default_factory=AirborneEoIr)
    navigation: Navigation = field(default_factory=Navigation)

    def __post_init__(self) -> None:
        if not isinstance(self.orbit, Racetrack):
            raise InputError("orbit: must be a Racetrack")
        if not isinstance(self.reporting, Reporting):
            raise InputError("reporting: must be a hyperdef.sensors.base.Reporting")
        check_node(self.reporting.node, "reporting.node")
        if self.radar is None and self.eoir is None:
            raise InputError("radar, eoir: the aircraft needs at least one sensor")
        if self.radar is not None and not isinstance(self.radar, AirborneRadar):
            raise InputError("radar: must be an AirborneRadar or None")
        if self.eoir is not None and not isinstance(self.eoir, AirborneEoIr):
            raise InputError("eoir: must be an AirborneEoIr or None")
        if not isinstance(self.navigation, Navigation):
            raise InputError("navigation: must be a Navigation")

    def position_velocity_ecef(
        self, t_s: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """True ECEF position (m) and velocity (m/s) of the aircraft, shape (K, 3) each."""
        return self.orbit.position_velocity_ecef(t_s)

    # ---------------------------------------------------------------- geometry

    def _looks(self, truth: TruthSamples, sensor) -> _Looks:
        t = np.asarray(truth.t, dtype=np.float64)
        r_s, v_s = self.orbit.position_velocity_ecef(t)
        lla_s = self.orbit.lla_at(t)
        heading = self.orbit.heading_at(t)
        r_t, v_t = truth.r_ecef_m, truth.v_ecef_m_s
        with np.errstate(invalid="ignore", divide="ignore"):
            aer = enu_to_aer(ecef_to_enu(r_t, lla_s, check=False))
            slant = aer[..., 0]
            dr, dv = r_t - r_s, v_t - v_s
            range_rate = np.sum(dr * dv, axis=-1) / slant
            speed = np.sqrt(np.sum(v_t * v_t, axis=-1))
            cos_aspect = -np.sum(dr * v_t, axis=-1) / (slant * speed)
            aspect = np.where(speed > 0.0, np.arccos(np.clip(cos_aspect, -1.0, 1.0)), _HALF_PI)
            in_view = (
                truth.valid
                & (slant > 0.0)
                & (slant <= sensor.max_range_m)
                & sensor.field_of_regard.contains(_relative_az(aer[..., 1], heading), aer[..., 2])
            )
        k_factor = STANDARD_K_FACTOR if isinstance(sensor, AirborneRadar) else 1.0
        in_view &= line_of_sight(r_s, r_t, k_factor=k_factor)
        return _Looks(t, r_s, v_s, heading, aer, range_rate, aspect, in_view)

    def _rcs(self, radar: AirborneRadar, looks: _Looks, phase: NDArray, kind) -> NDArray:
        rcs = np.full(looks.aspect.shape, radar.rcs_ref_m2)
        if kind is None:
            return rcs
        tables = dict(radar.rcs_by_kind)
        kinds = np.broadcast_to(np.asarray(kind, dtype=object), rcs.shape[:1])[:, None]
        for name, table in tables.items():
            if name != "boost":
                rcs = np.where(kinds == name, table.rcs_at(looks.aspect), rcs)
        if "boost" in tables:
            boosting = phase == PHASE_CODE["boost"]
            rcs = np.where(boosting, tables["boost"].rcs_at(looks.aspect), rcs)
        return rcs

    def _radar_pd(self, truth: TruthSamples, looks: _Looks, kind):
        radar = self.radar
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = radar.range_ref_m / looks.aer[..., 0]
            rcs = self._rcs(radar, looks, truth.phase, kind)
            snr = radar.snr_ref * ratio**4 * rcs / radar.rcs_ref_m2
            snr = np.where(looks.in_view, snr, 0.0)
        return np.where(looks.in_view, pd_swerling1(snr, radar.pfa), 0.0), snr

    def _eoir_pd(self, truth: TruthSamples, looks: _Looks):
        eo = self.eoir
        intensity = target_intensity_w_sr(
            truth.heat_flux_w_m2, truth.phase, eo.signature, eo.band_m
        ) * atmospheric_transmission(
            truth.alt_m, eo.zenith_optical_depth, eo.absorber_scale_height_m
        )
        behind = earth_behind(looks.r_true[None, :, :], truth.r_ecef_m)
        nei = np.where(behind, eo.nei_w_m2 * eo.earth_background_factor, eo.nei_w_m2)
        with np.errstate(invalid="ignore", divide="ignore"):
            snr = np.where(looks.in_view, intensity / looks.aer[..., 0] ** 2 / nei, 0.0)
        pd = np.where(looks.in_view, detection_probability_gaussian(snr, eo.snr_threshold), 0.0)
        return pd, snr

    def detection_probability(self, truth: TruthSamples, kind=None) -> NDArray[np.float64]:
        """Probability that the radar or the EO/IR detects each object at each time.

        Both sensors are evaluated at the times of ``truth`` (not at their own look
        times); their detections are independent: ``1 - (1 - Pd_radar)(1 - Pd_eoir)``.

        Parameters
        ----------
        truth : TruthSamples
            B objects at K times.
        kind : str or array_like of str, shape (B,), optional
            Threat kinds for the radar's RCS tables; None: every object has
            ``rcs_ref_m2``.

        Returns
        -------
        ndarray, shape (B, K)
        """
        miss = np.ones(truth.valid.shape)
        if self.radar is not None:
            miss *= 1.0 - self._radar_pd(truth, self._looks(truth, self.radar), kind)[0]
        if self.eoir is not None:
            miss *= 1.0 - self._eoir_pd(truth, self._looks(truth, self.eoir))[0]
        return 1.0 - miss

    # ---------------------------------------------------------------- reports

    def _nav_draws(self, k: int, rng: np.random.Generator):
        nav = self.navigation
        dp = nav.position_sigma_m * rng.standard_normal((k, 3))
        datt = nav.attitude_sigma_rad * rng.standard_normal((k, 2))
        return dp, datt

    def _angles(self, looks, b, k, sigma_across, datt, rng):
        aer = looks.aer[b, k]
        az, el = _perturbed_angles(aer[:, 1], aer[:, 2], sigma_across, rng)
        az = (az + datt[k, 0]) % _TWO_PI
        el = np.clip(el + datt[k, 1], -_HALF_PI, _HALF_PI)
        return aer[:, 0], az, el

    def _angle_variances(self, range_m, el, sigma_across):
        nav = self.navigation
        cos_el = np.maximum(np.abs(np.cos(el)), _MIN_COS_EL)
        pos_angle2 = (nav.position_sigma_m / range_m) ** 2
        var_el = sigma_across**2 + pos_angle2 + nav.attitude_sigma_rad**2
        var_az = (sigma_across**2 + pos_angle2) / cos_el**2 + nav.attitude_sigma_rad**2
        return var_az, var_el

    def _report(self, suffix, meas_type, t, z, R, r_nav, v, snr, truth_id, false_alarm):
        rep = self.reporting
        return make_detections(
            t=t,
            t_report=t + rep.report_latency_s,
            sensor_id=f"{rep.sensor_id}-{suffix}",
            node=rep.node,
            meas_type=meas_type,
            z=z,
            R=R,
            sensor_r_ecef_m=r_nav,
            sensor_v_ecef_m_s=v,
            snr=snr,
            truth_id=truth_id,
            false_alarm=false_alarm,
            marking=rep.marking,
        )

    def _observe_radar(self, trajectory, times, rng) -> pa.Table:
        radar = self.radar
        truth = truth_at(trajectory, times)
        looks = self._looks(truth, radar)
        pd, snr = self._radar_pd(truth, looks, trajectory.kind)
        dp, datt = self._nav_draws(times.size, rng)
        hit = rng.random(pd.shape) < pd
        k, b = np.nonzero(hit.T)  # time-major
        rng_true, az, el = self._angles(looks, b, k, radar.angle_sigma_rad, datt, rng)
        rng_m = rng_true + radar.range_sigma_m * rng.standard_normal(b.size)
        rr_m = looks.range_rate[b, k] + radar.range_rate_sigma_m_s * rng.standard_normal(b.size)
        tables = [self._radar_table(looks, times, k, rng_m, az, el, rr_m, dp, snr[b, k], b, False)]
        # false alarms: uniform over the field of regard, range and range-rate window
        counts = rng.poisson(radar.pfa * radar.false_alarm_cells, size=times.size)
        kf = np.repeat(np.arange(times.size), counts)
        n = kf.size
        fov = radar.field_of_regard
        rel = rng.uniform(fov.az_min_rad, fov.az_max_rad, n)
        el_f = rng.uniform(fov.el_min_rad, fov.el_max_rad, n)
        range_f = rng.uniform(0.0, radar.max_range_m, n)
        rr_f = rng.uniform(-radar.max_range_rate_m_s, radar.max_range_rate_m_s, n)
        snr_f = -math.log(radar.pfa) + rng.exponential(1.0, n)
        az_f = (looks.heading[kf] + rel) % _TWO_PI
        tables.append(
            self._radar_table(
                looks, times, kf, range_f, az_f, el_f, rr_f, dp, snr_f, np.full(n, -1), True
            )
        )
        return concat_detections([t for t in tables if t.num_rows])

    def _radar_table(self, looks, times, k, range_m, az, el, rr, dp, snr, truth_id, fa):
        if k.size == 0:
            return empty_detections()
        radar = self.radar
        nav = self.navigation
        var_az, var_el = self._angle_variances(range_m, el, radar.angle_sigma_rad)
        variances = [radar.range_sigma_m**2 + nav.position_sigma_m**2, var_az, var_el]
        columns = [range_m, az, el]
        if radar.meas_type == "raer":
            variances.append(np.full(k.size, radar.range_rate_sigma_m_s**2))
            columns.append(rr)
        m = len(columns)
        R = np.zeros((k.size, m, m))
        idx = np.arange(m)
        R[:, idx, idx] = np.stack(np.broadcast_arrays(*variances), axis=-1)
        return self._report(
            "radar",
            radar.meas_type,
            times[k],
            np.stack(columns, axis=-1),
            R,
            looks.r_true[k] + dp[k],
            looks.v_true[k],
            snr,
            truth_id,
            fa,
        )

    def _observe_eoir(self, trajectory, times, rng) -> pa.Table:
        eo = self.eoir
        truth = truth_at(trajectory, times)
        looks = self._looks(truth, eo)
        pd, snr = self._eoir_pd(truth, looks)
        dp, datt = self._nav_draws(times.size, rng)
        hit = rng.random(pd.shape) < pd
        k, b = np.nonzero(hit.T)
        range_m, az, el = self._angles(looks, b, k, eo.angle_sigma_rad, datt, rng)
        tables = [self._eoir_table(looks, times, k, range_m, az, el, dp, snr[b, k] ** 2, b, False)]
        counts = rng.poisson(eo.false_alarm_pixels * ndtr(-eo.snr_threshold), size=times.size)
        kf = np.repeat(np.arange(times.size), counts)
        n = kf.size
        fov = eo.field_of_regard
        rel = rng.uniform(fov.az_min_rad, fov.az_max_rad, n)
        el_f = np.arcsin(
            rng.uniform(math.sin(fov.el_min_rad), math.sin(fov.el_max_rad), n)
        )  # uniform in solid angle
        excess = -ndtri(rng.random(n) * ndtr(-eo.snr_threshold))
        az_f = (looks.heading[kf] + rel) % _TWO_PI
        tables.append(
            self._eoir_table(
                looks,
                times,
                kf,
                np.full(n, eo.max_range_m),
                az_f,
                el_f,
                dp,
                excess**2,
                np.full(n, -1),
                True,
            )
        )
        return concat_detections([t for t in tables if t.num_rows])

    def _eoir_table(self, looks, times, k, range_m, az, el, dp, snr, truth_id, fa):
        if k.size == 0:
            return empty_detections()
        var_az, var_el = self._angle_variances(range_m, el, self.eoir.angle_sigma_rad)
        R = np.zeros((k.size, 2, 2))
        R[:, 0, 0], R[:, 1, 1] = var_az, var_el
        return self._report(
            "eoir",
            "los",
            times[k],
            np.stack((az, el), axis=-1),
            R,
            looks.r_true[k] + dp[k],
            looks.v_true[k],
            snr,
            truth_id,
            fa,
        )

    def observe(
        self,
        trajectory: Trajectory,
        rng: np.random.Generator,
        t_start_s: float | None = None,
        t_end_s: float | None = None,
    ) -> pa.Table:
        """Simulate the aircraft's reports of a batch of threats.

        The radar looks every ``revisit_s``, the EO/IR every ``frame_period_s``, over
        [t_start_s, t_end_s] (default: the trajectory's span). Each look draws the
        navigation error, then the detections (radar Swerling 1, EO/IR Gaussian),
        their noise, and the false alarms.

        Parameters
        ----------
        trajectory : Trajectory
        rng : numpy.random.Generator
            The only source of randomness.
        t_start_s, t_end_s : float, optional
            Span, s from the epoch.

        Returns
        -------
        pyarrow.Table
            Detections table: radar rows (``raer``/``rae``, sensor id
            ``<sensor_id>-radar``) and EO/IR rows (``los``, ``<sensor_id>-eoir``), the
            navigated sensor position, ``t_report = t + report_latency_s``, sorted by t.
            The EO/IR's ``snr`` is the power ratio ``(E / NEI_eff)^2``; a false alarm's
            range for R is taken as ``max_range_m``.
        """
        t0 = float(np.min(trajectory.t)) if t_start_s is None else float(t_start_s)
        t1 = float(np.max(trajectory.t)) if t_end_s is None else float(t_end_s)
        tables = []
        for sensor, run in ((self.radar, self._observe_radar), (self.eoir, self._observe_eoir)):
            if sensor is None:
                continue
            times = look_times(t0, t1, sensor.period_s, sensor.phase_s)
            if times.size:
                tables.append(run(trajectory, times, rng))
        return concat_detections(tables)
