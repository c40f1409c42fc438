"""The space infrared tracking layer: a constellation of staring infrared sensors.

Each satellite measures the line-of-sight angles (``los``: azimuth from north and
elevation, rad, in the local ENU frame at the satellite, DESIGN.md) of every threat it
detects, once per frame. It cannot range. The chain from threat truth to a report:

1. **Signature.** The hot body radiates as a grey body at the radiative-equilibrium
   temperature of its stagnation heat flux, ``T = (q / (eps sigma))^(1/4)``
   (:func:`~hyperdef.threats.aero.radiative_equilibrium_temperature_k`), over an
   effective projected hot area ``A``: in-band radiant intensity
   ``I_body = eps A L_band(T)`` (W/sr), with ``L_band`` Planck's law integrated over the
   sensor's band (:func:`band_radiance_w_m2_sr`). While the booster burns
   (``phase == 'boost'``) the rocket plume adds a constant in-band intensity of the
   order of a large solid motor's, 1e6 W/sr by default ([Simmons]_, [APS]_). A glider is
   visible because its surfaces are hot ([Tracy]_); a re-entry vehicle in the vacuum of
   midcourse has no heat flux and, in this model, no signature.
2. **Atmosphere.** The path from the target to space is transmitted by
   ``tau = exp(-tau0 exp(-h / H))``: a zenith optical depth ``tau0`` of the band
   (0.7 by default, a band-average transmission of 0.5 from sea level) from absorbers
   (water vapour, CO2) of scale height ``H`` (2 km), evaluated at the target's altitude
   h and ignoring the slant of the path. Above about 10 km tau is 1 to within 1e-2.
   Deliberately crude: a band model (MODTRAN) is out of scope ([Hudson]_).
3. **Irradiance and noise.** At the aperture ``E = I tau / R^2`` (W/m^2). The sensor's
   noise-equivalent irradiance NEI (W/m^2) is raised by the factor
   ``earth_background_factor`` when the line of sight, continued past the target,
   hits the Earth (look-down: clutter leaking through the background subtraction of
   a sunlit, cloudy Earth), and is the bare NEI against the limb and space. The
   signal-to-noise ratio is ``SNR = E / NEI_eff``.
4. **Detection.** With Gaussian noise of unit variance (in NEI units) on the measured
   signal and a threshold of k sigma (``snr_threshold``), the detection probability is
   ``Pd = Phi(SNR - k)`` (0.5 when E = k NEI_eff) and the false-alarm probability per
   pixel and frame is ``Pfa = Q(k) = Phi(-k)`` ([Hudson]_, [Campana]_). Each
   satellite has ``false_alarm_pixels`` independent detector pixels in its field of
   regard, so it reports ``Poisson(pixels * Q(k))`` false alarms per frame, in
   directions drawn uniformly over the solid angle of its field of regard.
5. **Geometry.** A satellite sees a target inside its field of regard (off-nadir angle,
   from the geocentric nadir, at most ``max_off_nadir_rad``, by default the whole
   Earth disc and limb up to 100 km altitude) when the line of sight clears the Earth
   with a grazing altitude (``grazing_altitude_m``, 15 km: clouds and the dense lower
   atmosphere block tangent paths) by :func:`~hyperdef.sensors.visibility.line_of_sight`.
   Only tangent paths are blocked: a low target seen from above is not, and there is
   no cloud model, so a launch is seen from the pad (through the transmission of 2).
6. **Measurement.** The true line of sight is perturbed by two independent angular
   errors of ``angle_sigma_rad`` across it (along the directions of increasing
   azimuth and elevation). An angular error ``s`` across the line of sight changes
   the azimuth by ``s / cos(el)``: the reported covariance is
   ``R = diag((sigma / cos el)^2, sigma^2)`` (az first), with ``sigma / cos el`` capped
   at pi near the zenith and nadir where the azimuth becomes undefined, evaluated at
   the measured elevation. Ephemeris and attitude knowledge errors of the satellite are
   taken as folded into ``sigma``.

Detections of different satellites are independent; the layer's probability of
detecting an object at an instant is ``1 - prod_s (1 - Pd_s)``.

References
----------
.. [Planck] M. Planck, *The Theory of Heat Radiation*, 2nd ed. (1913), Dover 1959;
   CODATA 2018 exact values of h, c, k and sigma.
.. [Hudson] R. D. Hudson, *Infrared System Engineering*, Wiley, 1969 (Planck's law and
   band radiance, atmospheric transmission in the infrared windows, detection of a
   signal in Gaussian noise: threshold and false-alarm rate).
.. [Campana] S. B. Campana (ed.), *Passive Electro-Optical Systems*, vol. 5 of *The
   Infrared and Electro-Optical Systems Handbook*, SPIE/ERIM, 1993 (search and track:
   the NEI-based range equation ``R = sqrt(I tau / (NEI SNR))``). The default NEI,
   5e-14 W/m^2, is an assumption in the 1e-14 to 1e-13 W/m^2 taken for a LEO layer.
.. [Wertz] J. R. Wertz, D. F. Everett, J. J. Puschell (eds.), *Space Mission
   Engineering: The New SMAD*, Microcosm, 2011 (observation payloads: infrared sensing,
   staring focal planes; the geometry of the Earth seen from orbit).
.. [Simmons] F. S. Simmons, *Rocket Exhaust Plume Phenomenology*, The Aerospace Press /
   AIAA, 2000: in-band plume intensities of large solid motors at altitude of order
   1e5 to 1e6 W/sr in the short- and mid-wave infrared.
.. [APS] D. K. Barton et al., "Report of the American Physical Society Study Group on
   Boost-Phase Intercept Systems for National Missile Defense", Rev. Mod. Phys. 76,
   S1 (2004), doi:10.1103/RevModPhys.76.S1 (booster plume detection from space).
.. [Tracy] C. L. Tracy, D. Wright, "Modeling the Performance of Hypersonic Boost-Glide
   Missiles", Science & Global Security 28(3), 135-170 (2020) (glider surface
   temperatures and their infrared visibility to space sensors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import ClassVar

import numpy as np
import pyarrow as pa
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

from hyperdef.core.earth import WGS84_A_M, WGS84_B_M
from hyperdef.core.frames import ecef_to_lla, ecef_vector_to_enu
from hyperdef.core.markings import check_node
from hyperdef.errors import InputError
from hyperdef.sensors.base import Reporting, look_times
from hyperdef.sensors.detections import concat_detections, empty_detections, make_detections
from hyperdef.sensors.orbits import KeplerConstellation, TleConstellation
from hyperdef.sensors.truth import TruthSamples, truth_at
from hyperdef.sensors.visibility import line_of_sight
from hyperdef.threats.aero import radiative_equilibrium_temperature_k
from hyperdef.threats.trajectory import PHASES, Trajectory

__all__ = [
    "PLANCK_H_J_S",
    "SPEED_OF_LIGHT_M_S",
    "BOLTZMANN_J_K",
    "LIMB_ALTITUDE_M",
    "MWIR_BAND_M",
    "SWIR_BAND_M",
    "InfraredSignature",
    "InfraredPayload",
    "SpaceInfraredLayer",
    "planck_spectral_radiance_w_m3_sr",
    "band_radiance_w_m2_sr",
    "target_intensity_w_sr",
    "atmospheric_transmission",
    "earth_behind",
    "detection_probability_gaussian",
    "los_angles",
    "los_measurement",
    "los_covariance",
]

# CODATA 2018 exact SI values
PLANCK_H_J_S: float = 6.62607015e-34
SPEED_OF_LIGHT_M_S: float = 299792458.0
BOLTZMANN_J_K: float = 1.380649e-23
_C1L = 2.0 * PLANCK_H_J_S * SPEED_OF_LIGHT_M_S**2  # first radiation constant for radiance
_C2 = PLANCK_H_J_S * SPEED_OF_LIGHT_M_S / BOLTZMANN_J_K  # second radiation constant, m K

#: top of the sensible atmosphere (Karman line) bounding the default field of regard, m
LIMB_ALTITUDE_M: float = 100e3
#: mid-wave infrared band, m
MWIR_BAND_M: tuple[float, float] = (3.0e-6, 5.0e-6)
#: short-wave infrared band, m
SWIR_BAND_M: tuple[float, float] = (1.4e-6, 3.0e-6)

_BOOST = PHASES.index("boost")
_PAIR_CHUNK = 1 << 20  # (satellite, object, time) pairs evaluated at once


def _positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {value!r} must be a number") from None
    ok = np.isfinite(v) and (v >= 0.0 if allow_zero else v > 0.0)
    if not ok:
        relation = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name}: {value!r} must be a finite number {relation}")
    return v


def _check_band(band_m, name: str = "band_m") -> tuple[float, float]:
    try:
        lo, hi = (float(b) for b in band_m)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {band_m!r} must be (shortest, longest) wavelength, m") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and 0.0 < lo < hi):
        raise InputError(f"{name}: {band_m!r} must satisfy 0 < shortest < longest (m)")
    return lo, hi


# ------------------------------------------------------------------- radiometry


def planck_spectral_radiance_w_m3_sr(
    wavelength_m: ArrayLike, temperature_k: ArrayLike
) -> NDArray[np.float64]:
    """Blackbody spectral radiance (Planck's law), W / (m^2 sr m).

    ``L = 2 h c^2 / lambda^5 / (exp(h c / (lambda k T)) - 1)``, written with
    ``exp(-x) / (1 - exp(-x))`` so that cold temperatures underflow to 0 quietly.

    Parameters
    ----------
    wavelength_m, temperature_k : array_like, shape (...)
        Wavelength (m, > 0) and temperature (K, >= 0); they broadcast. T = 0 gives 0.

    Returns
    -------
    ndarray, shape (...)
        Spectral radiance per unit wavelength, W m^-2 sr^-1 m^-1.

    References
    ----------
    .. [1] R. D. Hudson, *Infrared System Engineering*, Wiley, 1969 (Planck's law).
    """
    lam = np.asarray(wavelength_m, dtype=np.float64)
    t = np.asarray(temperature_k, dtype=np.float64)
    hot = t > 0.0
    x = _C2 / (lam * np.where(hot, t, 1.0))
    with np.errstate(over="ignore", under="ignore"):
        boltz = np.exp(-x)
        radiance = _C1L / lam**5 * boltz / -np.expm1(-x)
    return np.where(hot, radiance, 0.0)


@lru_cache(maxsize=64)
def _log_wavelength_nodes(band_m: tuple[float, float], n_nodes: int):
    """Gauss-Legendre nodes in ln(lambda) over the band: wavelengths and weights (m).

    Cached: the rule depends only on the band and the node count.
    """
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    lo, hi = np.log(band_m[0]), np.log(band_m[1])
    half = 0.5 * (hi - lo)
    lam = np.exp(lo + half * (x + 1.0))
    weights = w * half * lam  # d(lambda) = lambda d(ln lambda)
    lam.flags.writeable = False
    weights.flags.writeable = False
    return lam, weights


def band_radiance_w_m2_sr(
    temperature_k: ArrayLike,
    band_m: tuple[float, float] = MWIR_BAND_M,
    n_nodes: int = 32,
) -> NDArray[np.float64]:
    """Blackbody radiance integrated over a wavelength band, W / (m^2 sr).

    ``L_band(T) = integral over [lambda1, lambda2] of L(lambda, T) d lambda``, by an
    ``n_nodes``-point Gauss-Legendre rule in ``ln lambda`` (a fixed set of wavelengths,
    so the whole batch is one (..., n_nodes) evaluation). Over the MWIR band 8 nodes
    agree with the exact series of Widger and Woodall to 1e-10; over 0.05 um - 5 mm,
    64 nodes reproduce the Stefan-Boltzmann ``sigma T^4 / pi`` to 2e-7 from 200 K to
    5800 K (the rest is the spectrum beyond 5 mm).

    Parameters
    ----------
    temperature_k : array_like, shape (...)
        Temperature, K (>= 0).
    band_m : (float, float)
        Shortest and longest wavelength, m.
    n_nodes : int
        Quadrature nodes.

    Returns
    -------
    ndarray, shape (...)
        In-band radiance, W m^-2 sr^-1.

    References
    ----------
    .. [1] R. D. Hudson, *Infrared System Engineering*, Wiley, 1969 (band radiance
       and the Stefan-Boltzmann total sigma T^4 / pi per steradian).
    .. [2] W. K. Widger, M. P. Woodall, "Integration of the Planck blackbody radiation
       function", Bulletin of the American Meteorological Society 57(10), 1217-1219
       (1976) (the exact series used to check the quadrature).
    """
    band = _check_band(band_m)
    lam, weights = _log_wavelength_nodes(band, int(n_nodes))
    t = np.asarray(temperature_k, dtype=np.float64)
    return planck_spectral_radiance_w_m3_sr(lam, t[..., None]) @ weights


@dataclass(frozen=True, slots=True)
class InfraredSignature:
    """In-band infrared signature of the threats (the same for every object).

    Attributes
    ----------
    emissivity : float
        Grey-body emissivity of the hot surface, (0, 1]; 0.85 as for the
        radiative-equilibrium wall temperature of :mod:`hyperdef.threats.aero`.
    hot_area_m2 : float
        Effective projected area radiating at the stagnation-point temperature, m^2
        (nose cap and leading edges; the colder afterbody is neglected). 0.1 m^2 by
        default: an assumption, of the order of a glider's nose and leading edges.
    boost_plume_w_sr : float
        In-band plume intensity while the booster burns, W/sr (1e6: order of a large
        solid motor in the MWIR at altitude, [Simmons]_, [APS]_; scale it for other
        bands).

    References
    ----------
    .. [Simmons] F. S. Simmons, *Rocket Exhaust Plume Phenomenology*, Aerospace Press /
       AIAA, 2000.
    .. [APS] D. K. Barton et al., Rev. Mod. Phys. 76, S1 (2004).
    .. [Tracy] C. L. Tracy, D. Wright, Science & Global Security 28(3), 135-170 (2020).
    """

    emissivity: float = 0.85
    hot_area_m2: float = 0.1
    boost_plume_w_sr: float = 1.0e6

    def __post_init__(self) -> None:
        e = _positive(self.emissivity, "emissivity")
        if e > 1.0:
            raise InputError(f"emissivity: {self.emissivity!r} must lie in (0, 1]")
        _positive(self.hot_area_m2, "hot_area_m2", allow_zero=True)
        _positive(self.boost_plume_w_sr, "boost_plume_w_sr", allow_zero=True)


def target_intensity_w_sr(
    heat_flux_w_m2: ArrayLike,
    phase: ArrayLike,
    signature: InfraredSignature,
    band_m: tuple[float, float] = MWIR_BAND_M,
    n_nodes: int = 32,
) -> NDArray[np.float64]:
    """In-band radiant intensity of threats from their stagnation heat flux and phase.

    ``I = eps A L_band(T(q)) + I_plume [phase == boost]`` with
    ``T(q) = (q / (eps sigma))^(1/4)``.

    Parameters
    ----------
    heat_flux_w_m2 : array_like, shape (...)
        Stagnation-point convective heat flux, W/m^2 (NaN gives 0).
    phase : array_like of int, shape (...)
        Phase codes (:data:`~hyperdef.threats.trajectory.PHASES`).
    signature : InfraredSignature
    band_m : (float, float)
        Sensor band, m.
    n_nodes : int
        Quadrature nodes of :func:`band_radiance_w_m2_sr`.

    Returns
    -------
    ndarray, shape (...)
        Radiant intensity in the band, W/sr.

    References
    ----------
    .. [1] J. D. Anderson, *Hypersonic and High-Temperature Gas Dynamics*, 2nd ed.,
       AIAA, 2006, sec. 6.8 (radiative-equilibrium temperature).
    .. [2] C. L. Tracy, D. Wright, Science & Global Security 28(3), 135-170 (2020).
    """
    q = np.nan_to_num(np.asarray(heat_flux_w_m2, dtype=np.float64), nan=0.0)
    temperature = radiative_equilibrium_temperature_k(q, signature.emissivity)
    body = (
        signature.emissivity
        * signature.hot_area_m2
        * band_radiance_w_m2_sr(temperature, band_m, n_nodes)
    )
    plume = np.where(np.asarray(phase) == _BOOST, signature.boost_plume_w_sr, 0.0)
    return body + plume


def atmospheric_transmission(
    alt_m: ArrayLike, zenith_optical_depth: float = 0.7, scale_height_m: float = 2000.0
) -> NDArray[np.float64]:
    """Band transmission from a target at altitude h to space, ``exp(-tau0 exp(-h/H))``.

    A single exponential absorber layer seen vertically (the slant of the path is
    ignored): crude, documented, and 1 above the weather.

    Parameters
    ----------
    alt_m : array_like, shape (...)
        Target altitude, m (NaN gives NaN).
    zenith_optical_depth : float
        Band-average optical depth of the whole atmosphere along the vertical.
    scale_height_m : float
        Scale height of the absorbers, m.

    Returns
    -------
    ndarray, shape (...)
        Transmission in (0, 1].

    References
    ----------
    .. [1] R. D. Hudson, *Infrared System Engineering*, Wiley, 1969 (atmospheric
       transmission in the infrared windows).
    """
    h = np.asarray(alt_m, dtype=np.float64)
    return np.exp(-zenith_optical_depth * np.exp(-np.maximum(h, -5e3) / scale_height_m))


def earth_behind(r_sensor_ecef_m: ArrayLike, r_target_ecef_m: ArrayLike) -> NDArray[np.bool_]:
    """Whether the Earth is the background of a target seen from a sensor (look-down).

    True where the ray from the sensor through the target, continued past the
    target, meets the WGS-84 ellipsoid (scaled to the unit sphere, the ray's far
    intersection lies beyond the target); False where the background is the limb or
    space.

    Parameters
    ----------
    r_sensor_ecef_m, r_target_ecef_m : array_like, shape (..., 3)
        ECEF positions, m; they broadcast.

    Returns
    -------
    ndarray of bool, shape (...)

    References
    ----------
    .. [1] Wertz, Everett, Puschell (eds.), *Space Mission Engineering: The New SMAD*,
       Microcosm, 2011 (Earth geometry seen from orbit).
    """
    rs = np.asarray(r_sensor_ecef_m, dtype=np.float64)
    rt = np.asarray(r_target_ecef_m, dtype=np.float64)
    scale = np.array([1.0 / WGS84_A_M, 1.0 / WGS84_A_M, 1.0 / WGS84_B_M])
    p = rs * scale
    d = (rt - rs) * scale  # target at parameter 1
    dd = np.sum(d * d, axis=-1)
    pd = np.sum(p * d, axis=-1)
    pp = np.sum(p * p, axis=-1)
    disc = pd * pd - dd * (pp - 1.0)
    with np.errstate(invalid="ignore"):
        far = (-pd + np.sqrt(np.maximum(disc, 0.0))) / np.where(dd > 0.0, dd, 1.0)
    return (disc >= 0.0) & (far > 1.0) & (dd > 0.0)


def detection_probability_gaussian(snr: ArrayLike, threshold: float) -> NDArray[np.float64]:
    """``Pd = Phi(SNR - k)``: a signal SNR (noise sigmas) against a threshold of k sigma.

    References
    ----------
    .. [1] R. D. Hudson, *Infrared System Engineering*, Wiley, 1969 (detection of a
       signal in Gaussian noise).
    """
    return ndtr(np.asarray(snr, dtype=np.float64) - threshold)


# ------------------------------------------------------------------ measurements


def _enu_los(r_sensor: NDArray, r_target: NDArray):
    """Sensor geodetic position and the ENU line of sight (unnormalised)."""
    lla = ecef_to_lla(r_sensor)
    return lla, ecef_vector_to_enu(r_target - r_sensor, lla, check=False)


def _az_el(enu: NDArray) -> tuple[NDArray, NDArray]:
    e, n, u = enu[..., 0], enu[..., 1], enu[..., 2]
    az = np.arctan2(e, n) % (2.0 * np.pi)
    az = np.where(az >= 2.0 * np.pi, 0.0, az)
    return az, np.arctan2(u, np.hypot(e, n))


def los_angles(
    r_sensor_ecef_m: ArrayLike, r_target_ecef_m: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Azimuth (from north, [0, 2 pi)) and elevation of a target in the sensor's ENU frame.

    Parameters
    ----------
    r_sensor_ecef_m, r_target_ecef_m : array_like, shape (..., 3)
        ECEF positions, m; they broadcast.

    Returns
    -------
    az_rad, el_rad : ndarray, shape (...)

    References
    ----------
    .. [1] D. A. Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed.,
       2013, ch. 4 (topocentric horizon coordinates).
    """
    rs, rt = np.broadcast_arrays(
        np.asarray(r_sensor_ecef_m, dtype=np.float64), np.asarray(r_target_ecef_m, float)
    )
    return _az_el(_enu_los(rs, rt)[1])


def los_covariance(el_rad: ArrayLike, sigma_rad: ArrayLike) -> NDArray[np.float64]:
    """Covariance of (az, el) for an angular error sigma across the line of sight.

    ``R = diag(min(sigma / cos el, pi)^2, sigma^2)``.

    Parameters
    ----------
    el_rad : array_like, shape (n,)
        Elevation, rad.
    sigma_rad : array_like, shape (n,) or scalar
        One-sigma angular error per axis across the line of sight, rad.

    Returns
    -------
    ndarray, shape (n, 2, 2)
    """
    el = np.asarray(el_rad, dtype=np.float64)
    sigma = np.broadcast_to(np.asarray(sigma_rad, dtype=np.float64), el.shape)
    cos_el = np.abs(np.cos(el))
    sigma_az = np.minimum(sigma / np.maximum(cos_el, 1e-300), np.pi)
    cov = np.zeros(el.shape + (2, 2))
    cov[..., 0, 0] = sigma_az * sigma_az
    cov[..., 1, 1] = sigma * sigma
    return cov


def _perturbed_angles(az, el, sigma_across, rng, extra_az=None, extra_el=None):
    """Angles of the unit line of sight rotated by N(0, sigma) across it in az and el."""
    n1 = sigma_across * rng.standard_normal(az.shape)
    n2 = sigma_across * rng.standard_normal(az.shape)
    if extra_az is not None:
        n1 = n1 + extra_az
        n2 = n2 + extra_el
    sa, ca, se, ce = np.sin(az), np.cos(az), np.sin(el), np.cos(el)
    # unit LOS, unit direction of increasing azimuth, of increasing elevation (ENU)
    ux, uy, uz = ce * sa, ce * ca, se
    ax, ay = ca, -sa
    ex, ey, ez = -se * sa, -se * ca, ce
    vx = ux + n1 * ax + n2 * ex
    vy = uy + n1 * ay + n2 * ey
    vz = uz + n2 * ez
    return _az_el(np.stack((vx, vy, vz), axis=-1))


def los_measurement(
    r_sensor_ecef_m: ArrayLike,
    r_target_ecef_m: ArrayLike,
    sigma_rad: float | ArrayLike,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Noisy ``los`` measurements and their covariance.

    The true line of sight is turned by two independent N(0, sigma) angles across it
    (towards increasing azimuth and increasing elevation); the measurement is the
    azimuth and elevation of the turned line in the sensor's ENU frame. To first
    order the azimuth error is ``N(0, (sigma / cos el)^2)``, which :func:`los_covariance`
    reports.

    Parameters
    ----------
    r_sensor_ecef_m, r_target_ecef_m : array_like, shape (n, 3)
        ECEF positions, m.
    sigma_rad : float or array_like, shape (n,)
        One-sigma angular error across the line of sight, rad.
    rng : numpy.random.Generator
        Source of the noise (two normal draws per measurement, az then el).

    Returns
    -------
    z : ndarray, shape (n, 2)
        Measured azimuth ([0, 2 pi)) and elevation, rad.
    R : ndarray, shape (n, 2, 2)
        Covariance, evaluated at the measured elevation.

    References
    ----------
    .. [1] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to
       Tracking and Navigation*, Wiley, 2001 (angle measurements and their
       covariance).
    """
    rs = np.atleast_2d(np.asarray(r_sensor_ecef_m, dtype=np.float64))
    rt = np.atleast_2d(np.asarray(r_target_ecef_m, dtype=np.float64))
    rs, rt = np.broadcast_arrays(rs, rt)
    az, el = _az_el(_enu_los(rs, rt)[1])
    sigma = np.broadcast_to(np.asarray(sigma_rad, dtype=np.float64), az.shape)
    az_m, el_m = _perturbed_angles(az, el, sigma, rng)
    return np.stack((az_m, el_m), axis=-1), los_covariance(el_m, sigma)


# ------------------------------------------------------------------ the layer


@dataclass(frozen=True, slots=True)
class InfraredPayload:
    """The infrared sensor every satellite of the layer carries.

    Attributes
    ----------
    band_m : (float, float)
        Band, m (MWIR 3-5 um by default; :data:`SWIR_BAND_M` for short-wave).
    nei_w_m2 : float
        Noise-equivalent irradiance at the aperture against space, W/m^2 (5e-14:
        assumed, within the 1e-14 to 1e-13 W/m^2 taken for a LEO tracking layer; the
        NEI-based detection range equation of [Campana]_).
    snr_threshold : float
        Detection threshold k in noise sigmas (6: Pfa = 1e-9 per pixel and frame).
    earth_background_factor : float
        Factor (>= 1) on the NEI when the Earth is the background (look-down clutter).
    angle_sigma_rad : float
        One-sigma line-of-sight angular error across the line of sight, rad (30 urad:
        a few tenths of a pixel of a LEO staring sensor).
    frame_period_s : float
        Frame (revisit) period, s.
    frame_phase_s : float
        Time of one frame, s (the frames are ``frame_phase_s + n frame_period_s``).
    grazing_altitude_m : float
        Lines of sight passing the limb below this altitude are blocked, m.
    max_off_nadir_rad : float or None
        Field-of-regard half-angle about the geocentric nadir, rad; None: the Earth
        disc and limb up to :data:`LIMB_ALTITUDE_M`.
    zenith_optical_depth, absorber_scale_height_m : float
        Atmosphere of :func:`atmospheric_transmission`.
    false_alarm_pixels : float
        Independent detector pixels per satellite and frame behind the false alarms
        (0: no false alarms).
    quadrature_nodes : int
        Nodes of the band integral.

    References
    ----------
    .. [Campana] S. B. Campana (ed.), *Passive Electro-Optical Systems*, IR/EO Systems
       Handbook vol. 5, SPIE/ERIM, 1993.
    .. [Wertz] Wertz, Everett, Puschell, *Space Mission Engineering: The New SMAD*,
       Microcosm, 2011 (observation payloads).
    """

    band_m: tuple[float, float] = MWIR_BAND_M
    nei_w_m2: float = 5.0e-14
    snr_threshold: float = 6.0
    earth_background_factor: float = 10.0
    angle_sigma_rad: float = 30e-6
    frame_period_s: float = 1.0
    frame_phase_s: float = 0.0
    grazing_altitude_m: float = 15e3
    max_off_nadir_rad: float | None = None
    zenith_optical_depth: float = 0.7
    absorber_scale_height_m: float = 2000.0
    false_alarm_pixels: float = 1.0e6
    quadrature_nodes: int = 32

    def __post_init__(self) -> None:
        object.__setattr__(self, "band_m", _check_band(self.band_m))
        _positive(self.nei_w_m2, "nei_w_m2")
        _positive(self.snr_threshold, "snr_threshold")
        if not _positive(self.earth_background_factor, "earth_background_factor") >= 1.0:
            raise InputError(
                f"earth_background_factor: {self.earth_background_factor!r} must be >= 1"
            )
        _positive(self.angle_sigma_rad, "angle_sigma_rad")
        _positive(self.frame_period_s, "frame_period_s")
        if not np.isfinite(self.frame_phase_s):
            raise InputError(f"frame_phase_s: {self.frame_phase_s!r} must be finite")
        _positive(self.grazing_altitude_m, "grazing_altitude_m", allow_zero=True)
        if self.max_off_nadir_rad is not None:
            v = _positive(self.max_off_nadir_rad, "max_off_nadir_rad")
            if v > np.pi / 2:
                raise InputError(f"max_off_nadir_rad: {v!r} must lie in (0, pi/2]")
        _positive(self.zenith_optical_depth, "zenith_optical_depth", allow_zero=True)
        _positive(self.absorber_scale_height_m, "absorber_scale_height_m")
        _positive(self.false_alarm_pixels, "false_alarm_pixels", allow_zero=True)
        if not isinstance(self.quadrature_nodes, int | np.integer) or self.quadrature_nodes < 2:
            raise InputError(f"quadrature_nodes: {self.quadrature_nodes!r} must be an int >= 2")

    def cos_max_off_nadir(self, r_sensor_norm_m: NDArray) -> NDArray:
        """Cosine of the field-of-regard half-angle for sensors at these radii."""
        if self.max_off_nadir_rad is not None:
            return np.full(np.shape(r_sensor_norm_m), np.cos(self.max_off_nadir_rad))
        ratio = np.clip((WGS84_A_M + LIMB_ALTITUDE_M) / r_sensor_norm_m, 0.0, 1.0)
        return np.sqrt(1.0 - ratio * ratio)  # cos(asin(ratio))

    @property
    def false_alarms_per_frame(self) -> float:
        """Expected false alarms per satellite and frame, ``pixels * Q(k)``."""
        return float(self.false_alarm_pixels * ndtr(-self.snr_threshold))


@dataclass(frozen=True, slots=True)
class _PairResult:
    sat: NDArray
    obj: NDArray
    time: NDArray
    pd: NDArray
    snr: NDArray


@dataclass(frozen=True, slots=True)
class SpaceInfraredLayer:
    """A constellation of infrared satellites reporting line-of-sight angles.

    Attributes
    ----------
    kind : str
        ``"space_ir"`` (class attribute).
    orbits : KeplerConstellation or TleConstellation
        Where the S satellites are.
    reporting : Reporting
        Sensor name, operating node, releasability, report latency. Satellite s
        reports as ``f"{reporting.sensor_id}-{s:02d}"``.
    payload : InfraredPayload
    signature : InfraredSignature

    Notes
    -----
    Shapes: S satellites, B objects, K times. Pairs (satellite, object, time) are
    evaluated in flat batches of up to 2^20, so memory stays bounded for large
    constellations and long runs.
    """

    kind: ClassVar[str] = "space_ir"

    orbits: KeplerConstellation | TleConstellation
    reporting: Reporting
    payload: InfraredPayload = field(default_factory=InfraredPayload)
    signature: InfraredSignature = field(default_factory=InfraredSignature)

    def __post_init__(self) -> None:
        if not isinstance(self.orbits, KeplerConstellation | TleConstellation):
            raise InputError(
                f"orbits: {type(self.orbits).__name__} is not a KeplerConstellation or "
                "TleConstellation"
            )
        if not isinstance(self.reporting, Reporting):
            raise InputError("reporting: must be a hyperdef.sensors.base.Reporting")
        check_node(self.reporting.node, "reporting.node")
        if not isinstance(self.payload, InfraredPayload):
            raise InputError("payload: must be an InfraredPayload")
        if not isinstance(self.signature, InfraredSignature):
            raise InputError("signature: must be an InfraredSignature")

    @property
    def n_satellites(self) -> int:
        """Number of satellites S."""
        return self.orbits.n_satellites

    def satellite_ids(self) -> list[str]:
        """Sensor id of each satellite, as in the Detections table."""
        return [f"{self.reporting.sensor_id}-{s:02d}" for s in range(self.n_satellites)]

    def position_velocity_ecef(
        self, t_s: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """ECEF position (m) and velocity (m/s) of every satellite, shape (S, K, 3) each.

        Parameters
        ----------
        t_s : array_like, shape (K,)
            Time from the scenario epoch, s.
        """
        return self.orbits.position_velocity_ecef(t_s)

    # -- the kernel: every (satellite, object, time) pair where the object exists
    def _pairs(self, r_sat: NDArray, truth: TruthSamples):
        p = self.payload
        intensity = target_intensity_w_sr(
            truth.heat_flux_w_m2, truth.phase, self.signature, p.band_m, p.quadrature_nodes
        )
        intensity = intensity * atmospheric_transmission(
            truth.alt_m, p.zenith_optical_depth, p.absorber_scale_height_m
        )
        sat_ok = np.isfinite(r_sat).all(axis=-1)  # (S, K)
        mask = sat_ok[:, None, :] & truth.valid[None, :, :]
        s_all, b_all, k_all = np.nonzero(mask)
        for start in range(0, s_all.size, _PAIR_CHUNK):
            s = s_all[start : start + _PAIR_CHUNK]
            b = b_all[start : start + _PAIR_CHUNK]
            k = k_all[start : start + _PAIR_CHUNK]
            rs = r_sat[s, k]
            rt = truth.r_ecef_m[b, k]
            los = rt - rs
            rng2 = np.sum(los * los, axis=-1)
            rs_norm = np.sqrt(np.sum(rs * rs, axis=-1))
            cos_off = -np.sum(rs * los, axis=-1) / (rs_norm * np.sqrt(rng2))
            seen = (cos_off >= p.cos_max_off_nadir(rs_norm)) & line_of_sight(
                rs, rt, grazing_alt_m=p.grazing_altitude_m
            )
            nei = np.where(earth_behind(rs, rt), p.nei_w_m2 * p.earth_background_factor, p.nei_w_m2)
            snr = intensity[b, k] / rng2 / nei
            pd = np.where(seen, detection_probability_gaussian(snr, p.snr_threshold), 0.0)
            yield _PairResult(s, b, k, pd, snr)

    def detection_probability(self, truth: TruthSamples, kind=None) -> NDArray[np.float64]:
        """Probability that at least one satellite detects each object at each time.

        Parameters
        ----------
        truth : TruthSamples
            B objects at K times.
        kind : str or array_like of str, optional
            Accepted for the interface every sensor shares (the radars' RCS tables
            need it); the infrared signature does not depend on the threat kind.

        Returns
        -------
        ndarray, shape (B, K)
            ``1 - prod_s (1 - Pd_s)``; 0 where the object does not exist.
        """
        r_sat, _ = self.position_velocity_ecef(truth.t)
        miss = np.ones(truth.valid.shape)
        for pair in self._pairs(r_sat, truth):
            np.multiply.at(miss, (pair.obj, pair.time), 1.0 - pair.pd)
        return 1.0 - miss

    def satellite_detection_probability(self, truth: TruthSamples) -> NDArray[np.float64]:
        """Detection probability of each satellite, shape (S, B, K)."""
        r_sat, _ = self.position_velocity_ecef(truth.t)
        out = np.zeros((r_sat.shape[0],) + truth.valid.shape)
        for pair in self._pairs(r_sat, truth):
            out[pair.sat, pair.obj, pair.time] = pair.pd
        return out

    def observe(
        self,
        trajectory: Trajectory,
        rng: np.random.Generator,
        t_start_s: float | None = None,
        t_end_s: float | None = None,
    ) -> pa.Table:
        """Simulate the layer's reports of a batch of threats.

        Frames at ``frame_phase_s + n frame_period_s`` within [t_start_s, t_end_s]
        (default: the trajectory's first to last sample). At each frame every
        satellite detects every object with its Pd, measures the ``los`` angles with
        noise, and reports false alarms (``truth_id`` -1).

        Parameters
        ----------
        trajectory : Trajectory
        rng : numpy.random.Generator
            The only source of randomness (detections, noise, false alarms).
        t_start_s, t_end_s : float, optional
            Span, s from the epoch.

        Returns
        -------
        pyarrow.Table
            Detections table (:mod:`hyperdef.sensors.detections`), ``meas_type`` ``los``,
            ``t_report = t + report_latency_s``, ``snr`` the power ratio ``(E/NEI_eff)^2``
            (a false alarm's: its noise excursion squared), sorted by t.
        """
        p = self.payload
        t0 = float(np.min(trajectory.t)) if t_start_s is None else float(t_start_s)
        t1 = float(np.max(trajectory.t)) if t_end_s is None else float(t_end_s)
        times = look_times(t0, t1, p.frame_period_s, p.frame_phase_s)
        if times.size == 0:
            return empty_detections()
        truth = truth_at(trajectory, times)
        r_sat, v_sat = self.position_velocity_ecef(times)
        ids = np.array(self.satellite_ids(), dtype=object)
        tables = []
        for pair in self._pairs(r_sat, truth):
            hit = rng.random(pair.pd.size) < pair.pd
            s, b, k = pair.sat[hit], pair.obj[hit], pair.time[hit]
            if s.size == 0:
                continue
            z, R = los_measurement(r_sat[s, k], truth.r_ecef_m[b, k], p.angle_sigma_rad, rng)
            tables.append(
                self._table(
                    times[k], ids[s], z, R, r_sat[s, k], v_sat[s, k], pair.snr[hit] ** 2, b, False
                )
            )
        tables.append(self._false_alarms(times, r_sat, v_sat, ids, rng))
        return concat_detections(tables)

    def _false_alarms(self, times, r_sat, v_sat, ids, rng) -> pa.Table:
        p = self.payload
        sat_ok = np.isfinite(r_sat).all(axis=-1)
        counts = rng.poisson(p.false_alarms_per_frame, size=sat_ok.shape) * sat_ok
        s, k = np.nonzero(counts)
        reps = counts[s, k]
        s, k = np.repeat(s, reps), np.repeat(k, reps)
        if s.size == 0:
            return empty_detections()
        rs = r_sat[s, k]
        lla = ecef_to_lla(rs)
        cos_max = p.cos_max_off_nadir(np.sqrt(np.sum(rs * rs, axis=-1)))
        cos_eta = 1.0 - rng.random(s.size) * (1.0 - cos_max)  # uniform in solid angle
        phi = 2.0 * np.pi * rng.random(s.size)
        sin_eta = np.sqrt(1.0 - cos_eta * cos_eta)
        # direction about the geocentric nadir, expressed in the satellite's ENU frame
        nadir = ecef_vector_to_enu(
            -rs / np.linalg.norm(rs, axis=-1, keepdims=True), lla, check=False
        )
        helper = np.where(np.abs(nadir[..., 1:2]) < 0.9, [0.0, 1.0, 0.0], [1.0, 0.0, 0.0])
        e1 = np.cross(nadir, helper)
        e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
        e2 = np.cross(nadir, e1)
        direction = cos_eta[:, None] * nadir + sin_eta[:, None] * (
            np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2
        )
        az, el = _az_el(direction)
        excess = -ndtri(rng.random(s.size) * ndtr(-p.snr_threshold))  # noise beyond k sigma
        z = np.stack((az, el), axis=-1)
        R = los_covariance(el, p.angle_sigma_rad)
        return self._table(
            times[k], ids[s], z, R, rs, v_sat[s, k], excess**2, np.full(s.size, -1), True
        )

    def _table(self, t, ids, z, R, r, v, snr, truth_id, false_alarm) -> pa.Table:
        rep = self.reporting
        return make_detections(
            t=t,
            t_report=t + rep.report_latency_s,
            sensor_id=ids,
            node=rep.node,
            meas_type="los",
            z=z,
            R=R,
            sensor_r_ecef_m=r,
            sensor_v_ecef_m_s=v,
            snr=snr,
            truth_id=truth_id,
            false_alarm=false_alarm,
            marking=rep.marking,
        )
