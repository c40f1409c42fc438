"""ASTERIX CAT 048 / CAT 062 reader and writer (hyperdef.io.asterix)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import asterix.generated as gen
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperdef.core.frames import aer_to_ecef, ecef_to_lla, enu_rotation, lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.io.asterix import (
    AZIMUTH_SIGMA_RAD,
    FT_M,
    HEIGHT_SIGMA_FL_M,
    NM_M,
    RANGE_SIGMA_M,
    read_asterix,
    write_asterix,
)
from hyperdef.io.cot import tracks_table
from hyperdef.sensors.detections import make_detections

EPOCH = datetime(2026, 11, 28, tzinfo=UTC)
SITE_DEG = (35.0, 139.0, 50.0)
SITE_LLA = np.array([np.radians(35.0), np.radians(139.0), 50.0])
SITES = {(3, 4): SITE_DEG}
MARK = "REL TO USA, JPN"
CAT048 = gen.Cat_048_1_31
CAT062 = gen.Cat_062_1_20


def plots_table(z: np.ndarray, t: np.ndarray | None = None, sensor="r1") -> pa.Table:
    n = z.shape[0]
    t = np.arange(n, dtype=float) + 10.0 if t is None else t
    return make_detections(
        t=t, t_report=t, sensor_id=sensor, node="JPN", meas_type="rae", z=z,
        R=np.diag([100.0, 1e-6, 1e-6]), sensor_r_ecef_m=lla_to_ecef(SITE_LLA),
        sensor_v_ecef_m_s=np.zeros(3), snr=np.nan, truth_id=np.arange(n), false_alarm=False,
        marking=MARK,
    )


def block(spec, records) -> bytes:
    return spec.create(records).unparse().to_bytes()


def plot_record(sac=3, sic=4, tod=100.0, rho_nm=60.0, theta=45.0, items=None):
    fields = {
        "010": (("SAC", sac), ("SIC", sic)),
        "140": (tod, "s"),
        "040": (("RHO", (rho_nm, "NM")), ("THETA", (theta, "°"))),
    }
    fields.update(items if items is not None else {"110": (0, ("3DH", (30000.0, "ft")))})
    return CAT048.cv_record.create({k: v for k, v in fields.items() if v is not None})


def test_marking_and_node_are_required_before_decoding():
    with pytest.raises(InputError, match="^marking"):
        read_asterix(b"\x30\x00", node="JPN")
    with pytest.raises(InputError, match="^node"):
        read_asterix(b"\x30\x00", marking=MARK)
    with pytest.raises(InputError, match="^node"):
        read_asterix(b"", marking=MARK, node="XXX")
    with pytest.raises(InputError, match="^marking"):
        read_asterix(b"", marking="JPN", node="JPN")
    with pytest.raises(InputError, match="^epoch"):
        read_asterix(b"", marking=MARK, node="JPN", epoch=datetime(2026, 1, 1))
    with pytest.raises(InputError, match="^sites"):
        read_asterix(b"", marking=MARK, node="JPN", sites={(3, 400): SITE_DEG})
    with pytest.raises(InputError, match="^sites"):
        read_asterix(b"", marking=MARK, node="JPN", sites={(3, 4): (95.0, 0.0, 0.0)})
    with pytest.raises(InputError, match="^data"):
        read_asterix("x", marking=MARK, node="JPN")


def test_plots_round_trip_within_the_item_resolution():
    n = 6
    z = np.stack([np.linspace(2e4, 4.5e5, n), np.radians(np.linspace(1, 359, n)),
                  np.radians(np.linspace(0.2, 5.0, n))], axis=1)
    data, counts = write_asterix(plots_table(z), EPOCH, sac=3, sic=4)
    assert counts == {"written": n}
    result = read_asterix(data, marking=MARK, node="JPN", epoch=EPOCH, sites=SITES)
    assert result.packets == n and not result.skipped and result.tracks is None
    table = result.detections
    back = np.asarray(table.column("z").to_pylist())
    # I048/040: RHO 1/256 NM, THETA 360/2^16 deg; I048/110: 25 ft on the height
    assert np.all(np.abs(back[:, 0] - z[:, 0]) <= NM_M / 512 + 1e-6)
    assert np.all(np.abs(back[:, 1] - z[:, 1]) <= np.radians(360 / 2**17) + 1e-12)
    half_lsb_el = 0.5 * 25 * FT_M / (z[:, 0] * np.cos(z[:, 2]))
    assert np.all(np.abs(back[:, 2] - z[:, 2]) <= half_lsb_el + 1e-7)
    np.testing.assert_allclose(table.column("t").to_pylist(), np.arange(n) + 10.0, atol=1 / 256)
    assert set(table.column("sensor_id").to_pylist()) == {"asterix:3/4"}
    assert set(table.column("meas_type").to_pylist()) == {"rae"}
    assert set(table.column("marking").to_pylist()) == {MARK}
    np.testing.assert_allclose(
        np.stack([table.column(c).to_numpy() for c in ("sensor_x", "sensor_y", "sensor_z")], 1),
        np.broadcast_to(lla_to_ecef(SITE_LLA), (n, 3)), atol=1e-6,
    )
    R = np.asarray(table.column("R").to_pylist()).reshape(n, 3, 3)
    assert np.allclose(R[:, 0, 0], RANGE_SIGMA_M**2)
    assert np.allclose(R[:, 1, 1], AZIMUTH_SIGMA_RAD**2)


def test_elevation_puts_the_target_at_its_flight_level():
    flight_level = {"090": (("V", 0), ("G", 0), ("FL", (350.0, "FL")))}
    record = plot_record(rho_nm=100.0, theta=90.0, items=flight_level)
    data = block(CAT048, [record])
    result = read_asterix(data, marking=MARK, node="JPN", epoch=EPOCH, sites=SITES)
    z = np.asarray(result.detections.column("z").to_pylist())[0]
    altitude = ecef_to_lla(aer_to_ecef(z, SITE_LLA))[2]
    assert altitude == pytest.approx(35000 * FT_M, abs=0.01)
    assert z[0] == pytest.approx(100 * NM_M) and z[1] == pytest.approx(np.pi / 2)
    # the straight-line geometry of a flat Earth would give a larger elevation
    assert z[2] < np.arcsin((35000 * FT_M - 50.0) / (100 * NM_M))
    sigma_el = np.sqrt(np.asarray(result.detections.column("R").to_pylist())[0][8])
    assert sigma_el == pytest.approx(HEIGHT_SIGMA_FL_M / (z[0] * np.cos(z[2])))


def test_time_of_day_takes_the_date_from_the_epoch():
    data = block(CAT048, [plot_record(tod=3600.5)])
    six_am = datetime(2026, 11, 28, 6, tzinfo=UTC)
    result = read_asterix(data, marking=MARK, node="JPN", epoch=six_am, sites=SITES)
    assert result.epoch == six_am
    assert result.detections.column("t").to_pylist() == [3600.5 - 6 * 3600]
    default = read_asterix(data, marking=MARK, node="JPN", sites=SITES)
    assert default.epoch.hour == 0 and default.epoch.tzinfo is not None


def test_bad_records_and_blocks_are_counted_while_good_ones_load():
    good = block(CAT048, [plot_record(), plot_record(tod=101.0)])
    unknown_site = block(CAT048, [plot_record(sac=9)])
    no_height = block(CAT048, [plot_record(items={})])
    too_high = {"110": (0, ("3DH", (60000.0, "ft")))}
    unreachable = block(CAT048, [plot_record(rho_nm=1.0, items=too_high)])
    cat034 = bytes([34, 0, 5, 0x80, 0x01])
    corrupt = bytes([48, 0, 6, 0xFF, 0xFF, 0xFF])
    truncated = good[: len(good) - 4]
    data = good + unknown_site + no_height + unreachable + cat034 + corrupt + good + truncated
    result = read_asterix(data, marking=MARK, node="JPN", epoch=EPOCH, sites=SITES)
    assert dict(result.skipped) == {
        "unknown radar site SAC/SIC": 1,
        "no height (I048/110 or I048/090)": 1,
        "height inconsistent with slant range": 1,
        "unsupported category 34": 1,
        "corrupt data block": 1,
        "truncated data block": 1,
    }
    assert result.detections.num_rows == 4
    assert result.packets == result.records + sum(result.skipped.values())


def test_missing_mandatory_items_are_counted():
    no_time = CAT048.cv_record.create({
        "010": (("SAC", 3), ("SIC", 4)), "040": (("RHO", (10.0, "NM")), ("THETA", (1.0, "°"))),
    })
    no_position = CAT062.cv_record.create(
        {"010": (("SAC", 1), ("SIC", 2)), "040": 5, "070": (1.0, "s")}
    )
    data = block(CAT048, [no_time]) + block(CAT062, [no_position])
    result = read_asterix(data, marking=MARK, node="JPN", epoch=EPOCH, sites=SITES)
    assert result.skipped == {"missing I048/140": 1, "missing I062/105": 1}
    assert result.records == 0 and result.packets == 2


def sample_tracks(n: int = 5) -> pa.Table:
    rng = np.random.default_rng(7)
    lla = np.stack((np.radians(rng.uniform(-60, 60, n)), np.radians(rng.uniform(-179, 179, n)),
                    rng.uniform(0, 50000, n)), axis=1)
    rotation = enu_rotation(lla)
    v_enu = np.stack((rng.uniform(-3000, 3000, n), rng.uniform(-3000, 3000, n),
                      rng.uniform(-500, 500, n)), axis=1)
    sig = np.stack((rng.uniform(10, 1000, n), rng.uniform(10, 1000, n), rng.uniform(10, 400, n),
                    rng.uniform(1, 60, n), rng.uniform(1, 60, n), rng.uniform(0.5, 7, n)), axis=1)
    cov_enu = np.zeros((n, 6, 6))
    cov_enu[:, range(6), range(6)] = sig**2
    cov_enu[:, 0, 1] = cov_enu[:, 1, 0] = 0.3 * sig[:, 0] * sig[:, 1]
    P = np.zeros((n, 6, 6))
    for a in (0, 3):
        block_ = cov_enu[:, a:a + 3, a:a + 3]
        P[:, a:a + 3, a:a + 3] = np.swapaxes(rotation, 1, 2) @ block_ @ rotation
    state = np.concatenate((lla_to_ecef(lla), np.einsum("nki,nk->ni", rotation, v_enu)), axis=1)
    status = ["confirmed", "tentative", "deleted", "confirmed", "confirmed"][:n]
    return tracks_table(
        t=np.linspace(5.0, 500.0, n), track_id=np.arange(n, dtype=np.int64) + 100,
        node=["JPN"] * n, status=status, state=state, P=P, marking=[MARK] * n,
    )


def test_tracks_round_trip_within_the_item_resolution():
    table = sample_tracks()
    data, counts = write_asterix(table, EPOCH, sac=1, sic=2)
    assert counts == {"written": 5}
    result = read_asterix(data, marking=MARK, node="JPN", epoch=EPOCH)
    assert result.detections is None and not result.skipped
    back = result.tracks
    assert back.column("track_id").to_pylist() == [100, 101, 102, 103, 104]
    assert back.column("status").to_pylist() == table.column("status").to_pylist()
    assert set(back.column("sac").to_pylist()) == {1} and set(back.column("sic").to_pylist()) == {2}
    assert set(back.column("node").to_pylist()) == {"JPN"}
    np.testing.assert_allclose(
        back.column("t").to_numpy(), table.column("t").to_numpy(), atol=1 / 256
    )
    position = np.stack([back.column(c).to_numpy() for c in "xyz"], 1)
    expected = np.stack([table.column(c).to_numpy() for c in "xyz"], 1)
    # I062/105: 180/2^25 deg (0.6 m); I062/130: 6.25 ft
    assert np.all(np.linalg.norm(position - expected, axis=1) < 2.0)
    velocity = np.stack([back.column(c).to_numpy() for c in ("vx", "vy", "vz")], 1)
    expected_v = np.stack([table.column(c).to_numpy() for c in ("vx", "vy", "vz")], 1)
    assert np.all(np.linalg.norm(velocity - expected_v, axis=1) < 0.5)
    P_back = np.asarray(back.column("P").to_pylist()).reshape(-1, 6, 6)
    P = np.asarray(table.column("P").to_pylist()).reshape(-1, 6, 6)
    sigma, sigma_back = np.sqrt(np.diagonal(P, 0, 1, 2)), np.sqrt(np.diagonal(P_back, 0, 1, 2))
    np.testing.assert_allclose(sigma_back, sigma, rtol=0.02, atol=1.0)


def test_track_values_beyond_the_item_ranges_are_left_out_not_clipped():
    table = sample_tracks(2)
    high = lla_to_ecef(np.array([0.1, 0.2, 80000.0]))
    columns = {c: table.column(c).to_numpy().copy() for c in ("x", "y", "z")}
    for k, c in enumerate("xyz"):
        columns[c][0] = high[k]
        table = table.set_column(table.column_names.index(c), c, pa.array(columns[c]))
    data, counts = write_asterix(table, EPOCH)
    assert counts["altitude beyond I062/130 range"] == 1 and counts["written"] == 1
    back = read_asterix(data, marking=MARK, node="JPN", epoch=EPOCH).tracks
    assert back.column("track_id").to_pylist() == [101]


def test_unknown_accuracies_read_conservatively():
    record = CAT062.cv_record.create({
        "010": (("SAC", 1), ("SIC", 2)), "040": 7, "070": (10.0, "s"),
        "105": (("LAT", (10.0, "°")), ("LON", (20.0, "°"))),
    })
    row = read_asterix(block(CAT062, [record]), marking=MARK, node="USA", epoch=EPOCH).tracks
    P = np.asarray(row.column("P").to_pylist()[0]).reshape(6, 6)
    assert np.trace(P[3:, 3:]) == pytest.approx(3 * 3000.0**2)
    assert row.column("status").to_pylist() == ["confirmed"]


def test_write_argument_errors_name_the_argument():
    table = plots_table(np.array([[1e5, 0.1, 0.1]]))
    with pytest.raises(InputError, match="^sac"):
        write_asterix(table, EPOCH, sac=256)
    with pytest.raises(InputError, match="^sic"):
        write_asterix(table, EPOCH, sic=-1)
    with pytest.raises(InputError, match="^epoch"):
        write_asterix(table, datetime(2026, 1, 1))
    with pytest.raises(InputError, match="^table"):
        write_asterix(table.select(["t"]), EPOCH)
    two = pa.concat_tables([table, plots_table(np.array([[1e5, 0.1, 0.1]]), sensor="r2")])
    with pytest.raises(InputError, match="^table"):
        write_asterix(two, EPOCH)
    far = plots_table(np.array([[1e6, 0.1, 0.01], [1e5, 0.1, 0.01]]))
    data, counts = write_asterix(far, EPOCH)
    assert counts == {"written": 1, "slant range beyond I048/040 (256 NM) or not finite": 1}


VALID = (
    write_asterix(plots_table(np.array([[1e5, 0.3, 0.05], [2e5, 2.0, 0.02]])), EPOCH, sac=3,
                  sic=4)[0]
    + write_asterix(sample_tracks(2), EPOCH)[0]
)


def mutated(valid: bytes) -> st.SearchStrategy[bytes]:
    """Valid blocks with random bytes inserted, one byte changed and a cut, from one seed."""
    size = len(valid)

    def build(seed: int) -> bytes:
        rng = random.Random(seed)
        at = rng.randint(0, size)
        out = bytearray(valid[:at] + rng.randbytes(rng.choice((0, 0, 1, 2, 5))) + valid[at:])
        flip = rng.randint(0, len(out) - 1)
        out[flip] = rng.getrandbits(8)
        cut = rng.randint(0, len(out) + 16)
        return bytes(out[:cut])

    return st.integers(0, 2**32 - 1).map(build)


@settings(max_examples=10_000, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.one_of(st.binary(max_size=64), mutated(VALID)))
def test_fuzz_malformed_input_never_raises(data):
    result = read_asterix(data, marking=MARK, node="JPN", epoch=EPOCH, sites=SITES)
    assert result.packets == result.records + sum(result.skipped.values())
    assert all(count > 0 for count in result.skipped.values())


def test_block_whose_every_plot_is_dropped_reads_as_no_detections():
    """A mutated CAT 048 block found by the fuzz test (CI): its plots decode but none can be
    placed, so the detections batch is empty; that is a result, not a crash."""
    data = bytes.fromhex(
        "30001fd10108037b00050035ff0c3902fdd101080304cad80005806bfe517d03ae3e00559b0d1504"
        "0001000280002ab3020118bbdad19e1bda006401001ec6e7c4d580020d03fb0190d197378d9b0d15"
        "04000100fa0000879512fee82ce91e1dfcfe006503005990e4bdd5800385045c0225a8ed2a19")
    result = read_asterix(data, marking=MARK, node="JPN", epoch=EPOCH, sites=SITES)
    assert result.packets == 3 and result.records == 0
    assert result.detections.num_rows == 0
    assert result.skipped["height inconsistent with slant range"] == 1
