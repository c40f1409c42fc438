"""End-to-end flights of the three threat kinds through the public ``fly`` entry point.

Plausibility bounds come from open press (VALIDATION.md [P]): the 2011 Advanced Hypersonic
Weapon test flew Kauai to Kwajalein, about 3,700-4,000 km, in under 30 minutes; glide
vehicles fly at 25-60 km; X-51A cruised at Mach 5.1 near 18 km; a Pershing II-class MRBM
flies about 1,800 km in about 11 minutes.
"""

import numpy as np
import pytest

from hyperdef.errors import InputError, UnreachableError
from hyperdef.threats import fly
from hyperdef.threats.reach import ballistic_max_range_m, hcm_max_range_m, hgv_max_range_m
from hyperdef.threats.trajectory import PHASE_CODE, summarize
from hyperdef.threats.vehicles import CAV_H, HCM_CRUISER, MRBM_RV

KAUAI = np.radians([22.0, -159.8])
KWAJALEIN = np.radians([9.4, 167.5])


def destination(start_rad, bearing_deg, distance_m):
    """Point at a great-circle distance and bearing on a sphere (test geometry only)."""
    lat1, lon1 = start_rad
    d = distance_m / 6_371_008.8
    b = np.radians(bearing_deg)
    lat2 = np.arcsin(np.sin(lat1) * np.cos(d) + np.cos(lat1) * np.sin(d) * np.cos(b))
    lon2 = lon1 + np.arctan2(
        np.sin(b) * np.sin(d) * np.cos(lat1), np.cos(d) - np.sin(lat1) * np.sin(lat2)
    )
    return np.array([lat2, lon2])


@pytest.fixture(scope="module")
def ahw():
    return fly("hgv", KAUAI, KWAJALEIN)


def test_ahw_corridor_is_a_plausible_glide(ahw):
    s = summarize(ahw, 0)
    assert s["status"] == "impact"
    assert 3_700 <= s["range_km"] <= 4_000, s["range_km"]
    assert s["flight_time_s"] < 30 * 60, "AHW flew the corridor in under 30 minutes"
    assert s["miss_to_aim_km"] < 5.0
    assert s["fraction_above_mach5"] > 0.8, "Mach > 5 for most of the flight"
    assert 25.0 <= s["min_glide_alt_km"] and s["max_glide_alt_km"] <= 60.0, s
    assert s["max_mach"] > 10.0


def test_trajectory_columns_follow_the_output_contract(ahw):
    table = ahw.to_table()
    for name in (
        "object_id",
        "kind",
        "t",
        "x",
        "y",
        "z",
        "vx",
        "vy",
        "vz",
        "lat",
        "lon",
        "alt",
        "mach",
    ):
        assert name in table.column_names, name
    t = table.column("t").to_numpy()
    assert np.all(np.diff(t) > 0), "samples are in time order"
    assert table.schema.field("lat").metadata[b"unit"] == b"deg"
    lat = table.column("lat").to_numpy()
    assert lat[0] == pytest.approx(22.0, abs=1e-9)
    # acceleration is the derivative of the recorded velocity
    v = ahw.v_ecef_m_s
    dv = np.gradient(v, ahw.t, axis=0)
    glide = ahw.phase == PHASE_CODE["glide"]
    np.testing.assert_allclose(dv[glide][5:-5], ahw.a_ecef_m_s2[glide][5:-5], atol=0.5)


def test_batch_equals_single_flights(ahw):
    aims = np.array(
        [KWAJALEIN, destination(KAUAI, 250.0, 2_000e3), destination(KAUAI, 200.0, 1_200e3)]
    )
    batch = fly("hgv", KAUAI, aims, maneuver=["none", "weave", "skip"])
    single = fly("hgv", KAUAI, aims[1], maneuver="weave")
    np.testing.assert_allclose(batch.r_ecef_m[batch.rows(1)], single.r_ecef_m, atol=1e-3)
    np.testing.assert_allclose(batch.r_ecef_m[batch.rows(0)], ahw.r_ecef_m, atol=1e-3)
    assert np.all(batch.miss_to_aim_m < 5_000.0)


def test_maneuvers_change_the_flight(ahw):
    weave = fly("hgv", KAUAI, KWAJALEIN, maneuver="weave")
    skip = fly("hgv", KAUAI, KWAJALEIN, maneuver="skip")
    base, w, k = summarize(ahw, 0), summarize(weave, 0), summarize(skip, 0)
    assert w["flight_time_s"] > base["flight_time_s"] + 30, "S-turns lengthen the path"

    def largest_climb_km(tr):
        alt = tr.lla[tr.phase == PHASE_CODE["glide"], 2]
        return float(np.max(alt - np.minimum.accumulate(alt))) / 1e3

    assert largest_climb_km(skip) > 4.0, "the skip dips, then pulls up"
    assert largest_climb_km(ahw) < 3.0
    for s in (w, k):
        assert s["miss_to_aim_km"] < 5.0
    # the weave swings the track from side to side of the straight one
    gc_normal = np.cross(ahw.r_ecef_m[0], ahw.r_ecef_m[-1])
    gc_normal /= np.linalg.norm(gc_normal)
    glide = weave.phase == PHASE_CODE["glide"]
    side = weave.r_ecef_m[glide] @ gc_normal
    assert side.max() - side.min() > 10e3, "lateral excursion of the weave"


def test_hcm_cruises_at_mach_six_near_25_km():
    aim = destination(KAUAI, 260.0, 900e3)
    hcm = fly("hcm", KAUAI, aim)
    s = summarize(hcm, 0)
    cruise = hcm.phase == PHASE_CODE["cruise"]
    late = cruise & (hcm.t > hcm.t[cruise][0] + 200.0)
    assert np.all(np.abs(hcm.lla[late, 2] - HCM_CRUISER.cruise_alt_m) < 1_000.0)
    assert np.all(np.abs(hcm.mach[late] - HCM_CRUISER.cruise_mach) < 0.1)
    assert s["miss_to_aim_km"] < 1.0
    assert np.all(np.diff(hcm.mass_kg[cruise]) <= 1e-9), "fuel only burns"


def test_hcm_cruise_obeys_breguet():
    # Heiser & Pratt ch. 1: in level cruise with thrust = drag and lift = m g_eff,
    # range = V Isp (g0 / g_eff) (L/D) ln(m0 / m1); L/D from the recorded lift and drag
    from hyperdef.threats.cruise import breguet_range_m

    aim = destination(KAUAI, 260.0, 1_200e3)
    hcm = fly("hcm", KAUAI, aim)
    cruise = np.flatnonzero(hcm.phase == PHASE_CODE["cruise"])
    seg = cruise[(hcm.t[cruise] > hcm.t[cruise[0]] + 200.0)][:-30]
    r, v, a, m = hcm.r_ecef_m[seg], hcm.v_ecef_m_s[seg], hcm.a_ecef_m_s2[seg], hcm.mass_kg[seg]
    from hyperdef.core.earth import gravity_j2_ecef, rotating_frame_acceleration

    specific = a - gravity_j2_ecef(r) - rotating_frame_acceleration(r, v)
    u = v / np.linalg.norm(v, axis=1)[:, None]
    along = np.einsum("ij,ij->i", specific, u)
    lift = np.linalg.norm(specific - along[:, None] * u, axis=1)
    mdot = -np.gradient(m, hcm.t[seg])
    thrust_acc = mdot * HCM_CRUISER.isp_s * 9.80665 / m
    drag = thrust_acc - along
    ld = float(np.mean(lift / drag))
    speed = float(np.linalg.norm(v, axis=1).mean())
    radius = float(np.linalg.norm(r, axis=1).mean())
    g_eff = float(np.mean(lift))  # level flight: lift balances the effective weight
    predicted = breguet_range_m(speed, HCM_CRUISER.isp_s, ld, m[0] / m[-1], g_eff)
    u0, u1 = r[0] / np.linalg.norm(r[0]), r[-1] / np.linalg.norm(r[-1])
    flown = np.arccos(np.clip(u0 @ u1, -1, 1)) * radius
    assert flown == pytest.approx(predicted, rel=0.02), (
        f"{flown / 1e3:.0f} vs Breguet {predicted / 1e3:.0f} km"
    )


def test_ballistic_missile_flies_a_pershing_ii_class_arc():
    aim = destination(KAUAI, 240.0, 1_500e3)
    bm = fly("ballistic", KAUAI, aim)
    s = summarize(bm, 0)
    assert s["miss_to_aim_km"] < 1.0
    assert 9 * 60 < s["flight_time_s"] < 12 * 60
    assert 250 < s["max_alt_km"] < 400
    assert set(np.unique(bm.phase)) == {
        PHASE_CODE["boost"],
        PHASE_CODE["coast"],
        PHASE_CODE["reentry"],
    }


@pytest.mark.parametrize(
    "kind, vehicle, max_range",
    [
        ("hgv", CAV_H, hgv_max_range_m),
        ("hcm", HCM_CRUISER, hcm_max_range_m),
        ("ballistic", MRBM_RV, ballistic_max_range_m),
    ],
)
def test_reach_limit_is_flyable(kind, vehicle, max_range):
    # the closed-form reach used to refuse aim points is one the guided flight achieves
    reach = max_range(vehicle)
    aim = destination(KAUAI, 250.0, 0.995 * reach)
    tr = fly(kind, KAUAI, aim)
    assert tr.status[0] == "impact"
    assert tr.miss_to_aim_m[0] < 5_000.0, (
        f"{kind} at {reach / 1e3:.0f} km missed by {tr.miss_to_aim_m[0] / 1e3:.1f} km"
    )
    with pytest.raises(UnreachableError, match="outside the"):
        fly(kind, KAUAI, destination(KAUAI, 250.0, 1.1 * reach))


def test_seeded_dispersion_is_reproducible():
    a = fly("ballistic", KAUAI, destination(KAUAI, 240.0, 800e3), rng=np.random.default_rng(3))
    b = fly("ballistic", KAUAI, destination(KAUAI, 240.0, 800e3), rng=np.random.default_rng(3))
    c = fly("ballistic", KAUAI, destination(KAUAI, 240.0, 800e3), rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a.r_ecef_m, b.r_ecef_m)
    assert not np.array_equal(a.r_ecef_m, c.r_ecef_m)


def test_guidance_overrides_shape_the_manoeuvre():
    """A weave of zero bank amplitude is no weave at all (the same flight to the bit); a
    shorter weave period swings the path more often. On the 1,595 km route from 38 N 118 E
    to Okinawa the glide phase holds 3 side-to-side swings with the default 150 s period
    and 6 with a 60 s one (measured)."""
    start, aim = np.radians([38.0, 118.0]), np.radians([26.2, 127.7])
    flat = fly("hgv", start, aim, maneuver="weave", guidance={"weave_amplitude_deg": 0.0})
    straight = fly("hgv", start, aim)
    np.testing.assert_array_equal(flat.r_ecef_m, straight.r_ecef_m)

    def swings(tr):
        glide = tr.phase == PHASE_CODE["glide"]
        normal = np.cross(tr.r_ecef_m[0], tr.r_ecef_m[-1])
        side = tr.r_ecef_m[glide] @ (normal / np.linalg.norm(normal))
        rate = np.diff(side)
        return int(np.count_nonzero(np.sign(rate[1:]) != np.sign(rate[:-1])))

    slow = fly("hgv", start, aim, maneuver="weave")
    fast = fly("hgv", start, aim, maneuver="weave", guidance={"weave_period_s": 60.0})
    assert swings(fast) >= swings(slow) + 2 and swings(slow) >= 2
    assert summarize(fast, 0)["miss_to_aim_km"] < 5.0


@pytest.mark.parametrize(("kind", "guidance", "message"), [
    ("hgv", {"weave_perid_s": 60.0}, "guidance.weave_perid_s: unknown hgv guidance setting"),
    ("hgv", {"weave_period_s": 0.0}, "guidance.weave_period_s: 0.0 must be a finite number > 0"),
    ("hgv", {"weave_amplitude_deg": -5.0}, "guidance.weave_amplitude_deg: -5.0 must be a "
     "finite number >= 0"),
    ("hgv", {"weave_amplitude_deg": 10.0, "weave_amplitude_rad": 0.1}, "given twice"),
    ("hcm", {"weave_period_s": 60.0}, "guidance.weave_period_s: unknown hcm guidance"),
    ("ballistic", {"nav_gain": 3.0}, "guidance: ballistic flights have no guidance settings"),
])
def test_bad_guidance_overrides_name_the_setting(kind, guidance, message):
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
        fly(kind, KAUAI, destination(KAUAI, 260.0, 1_500e3), guidance=guidance)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "rocket"}, "kind: 'rocket' unknown; allowed: hgv, hcm, ballistic"),
        ({"launch_lla": np.radians([95.0, 0.0])}, "launch latitude: 95 deg outside [-90, 90]"),
        ({"maneuver": "loop"}, "maneuver: 'loop' unknown for hgv; allowed: none, weave, skip"),
        ({"mass_kg": -5.0}, "mass_kg: -5.0 must be a positive number"),
        ({"dt_s": 0.0}, "dt_s: 0.0 must be a positive number"),
    ],
)
def test_bad_input_names_the_field(kwargs, message):
    args = {"kind": "hgv", "launch_lla": KAUAI, "aim_lla": KWAJALEIN, **kwargs}
    kind = args.pop("kind")
    with pytest.raises(InputError) as err:
        fly(kind, args.pop("launch_lla"), args.pop("aim_lla"), **args)
    assert str(err.value) == message
    assert "\n" not in str(err.value)


def test_hcm_refuses_manoeuvres():
    with pytest.raises(InputError, match="allowed: none"):
        fly("hcm", KAUAI, destination(KAUAI, 260.0, 500e3), maneuver="weave")


def test_flights_end_at_the_aim_altitude_and_cross_the_pole():
    # an aim point on a 1,500 m plateau, and a route over the North Pole
    plateau = fly("hgv", KAUAI, np.array([np.radians(35.0), np.radians(-116.0), 1_500.0]))
    assert plateau.lla[-1, 2] == pytest.approx(1_500.0, abs=1.0)
    assert plateau.miss_to_aim_m[0] < 100.0
    polar = fly("hgv", np.radians([64.0, -150.0]), np.radians([70.0, 30.0]))
    assert np.degrees(polar.lla[:, 0]).max() > 89.0, "the great circle crosses the pole"
    assert polar.miss_to_aim_m[0] < 100.0


@pytest.mark.parametrize(
    "kind, vehicle, max_range",
    [
        ("hgv", CAV_H, hgv_max_range_m),
        ("hcm", HCM_CRUISER, hcm_max_range_m),
        ("ballistic", MRBM_RV, ballistic_max_range_m),
    ],
)
def test_every_direction_and_latitude_across_the_reach(kind, vehicle, max_range):
    # one batch: launches at 0, 45 and -60 deg latitude, flying north, east, south and west
    # (with and against the Earth's rotation), from just above the minimum to near the maximum
    from hyperdef.threats.reach import MIN_RANGE_M

    lo, hi = MIN_RANGE_M[kind], max_range(vehicle)
    launches, aims = [], []
    for lat0 in (0.0, 45.0, -60.0):
        for bearing in (0.0, 90.0, 180.0, 270.0):
            for distance in (1.01 * lo, 0.5 * (lo + hi), 0.985 * hi):
                start = np.radians([lat0, 10.0])
                launches.append(start)
                aims.append(destination(start, bearing, distance))
    tr = fly(kind, np.array(launches), np.array(aims))
    assert np.all(tr.status == "impact")
    worst = int(np.argmax(tr.miss_to_aim_m))
    assert tr.miss_to_aim_m[worst] < 1_000.0, (
        f"{kind} flight {worst} missed by {tr.miss_to_aim_m[worst] / 1e3:.1f} km"
    )


def test_glide_vehicle_phases_follow_each_other(ahw):
    # boost, the unpowered arc up, the fall and pull-out, the glide, the terminal dive
    order = [PHASE_CODE[p] for p in ("boost", "coast", "pullout", "glide", "dive")]
    changes = ahw.phase[np.r_[0, np.flatnonzero(np.diff(ahw.phase)) + 1]]
    assert changes.tolist() == order
