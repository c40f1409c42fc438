"""Unit tests of the MISB ST 0601 KLV reader and writer (hyperdef.io.klv).

Fixtures are simulated MQ-9 reports (tests/unit/io_fixtures.py) written by
:func:`write_klv`; ``klvdata`` decodes the same bytes independently as an oracle.
Quantisation bounds come from the tag resolutions of MISB ST 0601.19 (Table 1):
latitude tags 13/23/40 map +-90 deg onto +-(2^31 - 1), longitude tags 14/24/41 map
+-180 deg, height tags 42/75/78 map [-900, 19000] m onto 0..65535, CE90/LE90 tags
45/46 map [0, 4095] m onto 0..65535; a rounding encoder is off by half a step.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime

import io_fixtures as fx
import klvdata
import klvdata.misb0102  # noqa: F401  registers the ST 0102 parser with klvdata
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stanag4609 import ST0601_KEY, encode_uas_local_set

from hyperdef.core.frames import aer_to_ecef, ecef_to_lla, enu_rotation, lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.io import IngestResult
from hyperdef.io.klv import CE90_PER_SIGMA, LE90_PER_SIGMA, read_klv, write_klv
from hyperdef.sensors.detections import COLUMNS, measurements

R_MAX_M = 6.4e6  # above the largest radius of curvature of WGS-84 (6,399,594 m)
HALF_LAT_M = R_MAX_M * math.radians(180.0 / (2**32 - 2)) / 2  # 2.3 mm
HALF_LON_M = R_MAX_M * math.radians(360.0 / (2**32 - 2)) / 2  # 4.7 mm
HALF_HEIGHT_M = 19_900.0 / 65_535 / 2  # 0.152 m
HALF_ERROR_M = 4095.0 / 65_535 / 2  # 0.031 m of CE90 / LE90
SLOP = 1e-6


def _enu_error(actual_r, expected_r):
    rot = enu_rotation(ecef_to_lla(expected_r))
    return np.abs(np.einsum("nij,nj->ni", rot, actual_r - expected_r))


def _xyz(table):
    return np.column_stack(
        [table.column(c).to_numpy() for c in ("sensor_x", "sensor_y", "sensor_z")]
    )


def _velocity(table):
    return np.column_stack(
        [table.column(c).to_numpy() for c in ("sensor_vx", "sensor_vy", "sensor_vz")]
    )


def _assert_within_quantisation(actual_r, expected_r):
    err = _enu_error(actual_r, expected_r)
    assert np.all(err[:, 0] <= HALF_LON_M + SLOP), f"east error {err[:, 0].max()} m"
    assert np.all(err[:, 1] <= HALF_LAT_M + SLOP), f"north error {err[:, 1].max()} m"
    assert np.all(err[:, 2] <= HALF_HEIGHT_M + SLOP), f"up error {err[:, 2].max()} m"


@pytest.fixture(scope="module")
def eoir():
    return fx.eoir_table(np.random.default_rng(1))


@pytest.fixture(scope="module")
def eoir_stream(eoir):
    data, skipped = write_klv(eoir, fx.EPOCH)
    assert skipped == Counter()
    return data


def _packet(**overrides) -> bytes:
    """One hand-built ST 0601 packet over Okinawa (tags as keyword ``tNN``)."""
    values = {
        2: 1_772_323_200_000_000,  # 2026-03-01T00:00:00Z
        10: "MQ9-7",
        13: 26.3,
        14: 127.8,
        40: 26.5,
        41: 127.9,
        42: 100.0,
        65: 19,
        75: 15_000.0,
        78: 100.0,
    }
    for key, value in overrides.items():
        tag = int(key[1:])
        if value is None:
            values.pop(tag, None)
        else:
            values[tag] = value
    return encode_uas_local_set(values)


# ------------------------------------------------------------------ round trips


def test_round_trip_xyz_within_quantisation(eoir, eoir_stream):
    result = read_klv(eoir_stream, epoch=fx.EPOCH)
    assert isinstance(result, IngestResult) and result.format == "klv"
    assert result.packets == result.records == eoir.num_rows
    assert result.skipped == Counter()
    table = result.detections
    assert table.column_names == list(COLUMNS)
    _, z, R = measurements(table, "xyz")
    _, z0, R0 = measurements(eoir, "xyz")
    _assert_within_quantisation(z, z0)
    _assert_within_quantisation(_xyz(table), _xyz(eoir))
    t, t0 = table.column("t").to_numpy(), eoir.column("t").to_numpy()
    assert np.all(np.abs(t - t0) <= 0.5e-6 + 1e-9), "tag 2 resolution is 1 us"
    assert np.array_equal(table.column("t_report").to_numpy(), t)
    # sigma_h, sigma_v through CE90 / LE90 (circular covariance is exact)
    rot = enu_rotation(ecef_to_lla(z0))
    enu, enu0 = rot @ R @ rot.mT, rot @ R0 @ rot.mT
    assert np.allclose(np.sqrt(enu[:, 0, 0]), np.sqrt(enu0[:, 0, 0]), atol=HALF_ERROR_M / 2.146)
    assert np.allclose(np.sqrt(enu[:, 2, 2]), np.sqrt(enu0[:, 2, 2]), atol=HALF_ERROR_M / 1.644)
    assert np.allclose(enu[:, 0, 1], 0.0, atol=1e-6)
    # platform velocity: ground speed in whole m/s (tag 56), heading 360/65535 deg
    dv = np.linalg.norm(_velocity(table) - _velocity(eoir), axis=-1)
    assert np.all(dv <= 0.5 + 90.0 * math.radians(360.0 / 65_535) + 0.01), dv.max()
    assert table.column("sensor_id").to_pylist() == ["MQ9-1-eoir"] * eoir.num_rows
    assert set(table.column("node").to_pylist()) == {"USA"}
    assert set(table.column("marking").to_pylist()) == {fx.MARKING}
    assert np.all(np.isnan(table.column("snr").to_numpy()))
    assert set(table.column("truth_id").to_pylist()) == {-1}
    assert not any(table.column("false_alarm").to_pylist())


def test_round_trip_raer_and_skips_los():
    table = fx.mixed_table()
    data, skipped = write_klv(table, fx.EPOCH)
    assert skipped == Counter({"los row has no position": 1})
    result = read_klv(data, epoch=fx.EPOCH)
    assert result.records == table.num_rows - 1 and not result.skipped
    # the radar rows: target = sensor + (range, az, el) in the sensor's ENU frame
    kinds = np.array(table.column("meas_type").to_pylist())
    keep = kinds != "los"
    rows, z_raer, _ = measurements(table, "raer")
    sensor_lla = ecef_to_lla(_xyz(table)[rows])
    expected = aer_to_ecef(z_raer[:, :3], sensor_lla)
    position = np.array(result.detections.column("z").to_pylist())
    read_rows = np.flatnonzero(np.isin(np.flatnonzero(keep), rows))
    _assert_within_quantisation(position[read_rows], expected)


def test_epoch_defaults_to_midnight_of_first_packet(eoir_stream):
    result = read_klv(eoir_stream)
    assert result.epoch == datetime(2026, 3, 1, tzinfo=UTC)
    other = read_klv(eoir_stream, epoch=datetime(2026, 2, 28, 12, tzinfo=UTC))
    shift = other.detections.column("t").to_numpy() - result.detections.column("t").to_numpy()
    assert np.allclose(shift, 12 * 3600.0)


# ------------------------------------------------------------------ independent oracle


def test_values_agree_with_klvdata(eoir_stream):
    result = read_klv(eoir_stream, epoch=fx.EPOCH)
    lla = ecef_to_lla(np.array(result.detections.column("z").to_pylist()))
    sensor_lla = ecef_to_lla(_xyz(result.detections))
    t = result.detections.column("t").to_numpy()
    R = np.array(result.detections.column("R").to_pylist()).reshape(-1, 3, 3)
    rot = enu_rotation(lla)
    enu = rot @ R @ rot.mT
    packets = list(klvdata.StreamParser(eoir_stream))
    assert len(packets) == result.records
    for i, packet in enumerate(packets):
        assert packet.key == ST0601_KEY
        items = packet.items

        def value(tag, items=items):
            return items[bytes([tag])].value.value

        assert math.degrees(lla[i, 0]) == pytest.approx(value(40), abs=1e-9)
        assert math.degrees(lla[i, 1]) == pytest.approx(value(41), abs=1e-9)
        assert lla[i, 2] == pytest.approx(value(42), abs=1e-6)
        assert math.degrees(sensor_lla[i, 0]) == pytest.approx(value(13), abs=1e-9)
        assert math.degrees(sensor_lla[i, 1]) == pytest.approx(value(14), abs=1e-9)
        assert sensor_lla[i, 2] == pytest.approx(value(75), abs=1e-6)
        assert (fx.EPOCH - value(2)).total_seconds() == pytest.approx(-t[i], abs=1e-6)
        ce90 = CE90_PER_SIGMA * math.sqrt(enu[i, 0, 0])
        assert ce90 == pytest.approx(value(45), abs=1e-6)
        assert LE90_PER_SIGMA * math.sqrt(enu[i, 2, 2]) == pytest.approx(value(46), abs=1e-6)
        assert str(value(10)) == "MQ9-1-eoir"
        security = items[b"\x30"].items
        assert security[b"\x03"].value == b"//USA"  # klvdata keeps these as raw bytes
        assert security[b"\x06"].value == b"USA JPN"


def test_checksum_is_the_st0601_running_sum(eoir_stream):
    first = eoir_stream[16]  # BER length after the 16-byte key
    width = 0 if first < 0x80 else first & 0x7F
    length = first if first < 0x80 else int.from_bytes(eoir_stream[17 : 17 + width], "big")
    end = 17 + width + length
    packet = np.frombuffer(eoir_stream[:end], dtype=np.uint8).astype(np.uint32)
    assert bytes(eoir_stream[end - 4 : end - 2]) == b"\x01\x02"  # tag 1, length 2, last
    body = packet[:-2]  # key through the checksum's length octet
    words = body[0::2] << 8
    words[: body[1::2].size] += body[1::2]
    assert int(words.sum() % 65536) == int.from_bytes(eoir_stream[end - 2 : end], "big")


# ------------------------------------------------------------------ bad packets


def test_checksum_mismatch_skipped_and_others_read():
    good = [_packet(t2=1_772_323_200_000_000 + i * 1_000_000) for i in range(3)]
    bad = bytearray(good[1])
    bad[30] ^= 0x01
    result = read_klv(good[0] + bytes(bad) + good[2], marking=fx.MARKING, node="USA")
    assert result.records == 2 and result.packets == 3
    assert result.skipped == Counter({"checksum mismatch": 1})
    assert result.detections.column("t").to_pylist() == [0.0, 2.0]


def test_truncated_garbage_and_unknown_key_counted():
    p = [_packet(t2=1_772_323_200_000_000 + i * 1_000_000) for i in range(5)]
    unknown = bytes.fromhex("060e2b34020b01010e01030300000000") + b"\x03abc"
    # leading garbage; p[1] cut short (p[2] starts inside its declared length); a
    # packet under another universal key; p[4] cut at the end of the stream
    stream = b"\x00\xffgarbage" + p[0] + p[1][:-10] + p[2] + unknown + p[3] + p[4][:20]
    result = read_klv(stream, marking=fx.MARKING, node="JPN")
    assert result.skipped == Counter(
        {"truncated packet": 2, "unrecognised bytes": 1, "unknown universal key": 1}
    )
    assert result.records == 3 and result.packets == 7
    assert result.detections.column("t").to_pylist() == [0.0, 2.0, 3.0]


def test_bad_ber_length_resynchronises():
    good = _packet()
    bad = ST0601_KEY + b"\x89" + b"\x00" * 12  # 9 length octets: not allowed
    result = read_klv(bad + good, marking=fx.MARKING, node="USA")
    assert result.skipped == Counter({"bad BER length": 1}) and result.records == 1


def test_missing_tags_give_reasons():
    stream = (
        _packet(t40=None, t41=None, t42=None, t78=None)  # no target, no frame centre
        + _packet(t13=None)
        + _packet(t45=3000.0, t46=1.0)
    )
    result = read_klv(stream, marking=fx.MARKING, node="USA")
    assert result.skipped == Counter({"no target location": 1, "no platform position": 1})
    assert result.records == 1


# ------------------------------------------------------------------ marking and node


def test_marking_and_node_from_arguments_without_st0102():
    packet = _packet()
    assert read_klv(packet).skipped == Counter({"no releasability marking": 1})
    assert read_klv(packet, marking=fx.MARKING).skipped == Counter({"no source node": 1})
    result = read_klv(packet, marking="REL TO JPN, USA", node="JPN")
    assert result.detections.column("marking").to_pylist() == ["REL TO USA, JPN"]
    assert result.detections.column("node").to_pylist() == ["JPN"]


def test_st0102_overrides_arguments(eoir_stream):
    result = read_klv(
        eoir_stream[: eoir_stream.find(ST0601_KEY, 1)], marking="REL TO GBR, USA", node="GBR"
    )
    assert result.detections.column("node").to_pylist() == ["USA"]
    assert result.detections.column("marking").to_pylist() == ["REL TO USA, JPN"]


def test_classifying_country_is_released_to():
    table = fx.eoir_table(
        np.random.default_rng(3), n_targets=1, times=[0.0], node="JPN", marking="REL TO USA"
    )
    data, _ = write_klv(table, fx.EPOCH)
    result = read_klv(data)
    assert result.detections.column("marking").to_pylist() == ["REL TO USA, JPN"]
    assert result.detections.column("node").to_pylist() == ["JPN"]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"marking": "USA, JPN"}, "marking"),
        ({"marking": "REL TO XYZ"}, "marking"),
        ({"node": "XYZ"}, "node"),
        ({"node": 3}, "node"),
        ({"epoch": datetime(2026, 3, 1)}, "epoch"),
        ({"epoch": "2026-03-01"}, "epoch"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, name):
    with pytest.raises(InputError, match=f"^{name}"):
        read_klv(b"", **kwargs)


def test_bad_data_and_writer_arguments():
    with pytest.raises(InputError, match="^data"):
        read_klv("not bytes")
    table = fx.eoir_table(np.random.default_rng(0), n_targets=1, times=[0.0])
    with pytest.raises(InputError, match="^epoch"):
        write_klv(table, datetime(2026, 3, 1))
    with pytest.raises(InputError, match="^detections"):
        write_klv(table.drop_columns(["R"]), fx.EPOCH)


# ------------------------------------------------------------------ conventions


def test_default_covariance_from_sensor_geometry():
    result = read_klv(_packet(), marking=fx.MARKING, node="USA")
    z = np.array(result.detections.column("z").to_pylist())[0]
    slant = np.linalg.norm(z - _xyz(result.detections)[0])
    R = np.array(result.detections.column("R").to_pylist()[0]).reshape(3, 3)
    assert np.allclose(R, np.eye(3) * (3.0**2 + (slant * 5e-4) ** 2))
    assert np.array_equal(_velocity(result.detections)[0], np.zeros(3))


def test_error_estimates_give_sigmas():
    result = read_klv(_packet(t45=21.46, t46=16.449), marking=fx.MARKING, node="USA")
    z = np.array(result.detections.column("z").to_pylist())
    R = np.array(result.detections.column("R").to_pylist()).reshape(-1, 3, 3)
    rot = enu_rotation(ecef_to_lla(z))
    enu = rot @ R @ rot.mT
    step = 4095.0 / 65_535
    assert math.sqrt(enu[0, 0, 0]) == pytest.approx(21.46 / CE90_PER_SIGMA, abs=step)
    assert math.sqrt(enu[0, 2, 2]) == pytest.approx(10.0, abs=step)


def test_frame_centre_and_leap_seconds():
    packet = _packet(t40=None, t41=None, t42=None, t23=26.4, t24=127.7, t136=37)
    result = read_klv(packet, marking=fx.MARKING, node="USA")
    lla = ecef_to_lla(np.array(result.detections.column("z").to_pylist()))[0]
    assert math.degrees(lla[0]) == pytest.approx(26.4, abs=1e-7)
    assert lla[2] == pytest.approx(100.0, abs=HALF_HEIGHT_M)
    assert result.epoch == datetime(2026, 2, 28, tzinfo=UTC)  # 37 s before midnight
    assert result.detections.column("t").to_pylist() == [86_400.0 - 37.0]


def test_writer_counts_heights_outside_the_tags():
    table = fx.eoir_table(np.random.default_rng(2), n_targets=1, times=[0.0, 1.0])
    z = np.array(table.column("z").to_pylist())
    lla = ecef_to_lla(z)
    lla[0, 2] = 30_000.0  # a glide vehicle: above tag 42's 19 km
    high = lla_to_ecef(lla)
    table = table.set_column(
        table.column_names.index("z"),
        "z",
        pa.array([list(r) for r in high], pa.list_(pa.float64())),
    )
    data, skipped = write_klv(table, fx.EPOCH)
    assert skipped == Counter({"target height outside ST 0601 range": 1})
    assert read_klv(data).records == 1


def test_unknown_sensor_velocity_written_without_motion_tags():
    table = fx.eoir_table(np.random.default_rng(6), n_targets=1, times=[0.0])
    for name in ("sensor_vx", "sensor_vy", "sensor_vz"):
        table = table.set_column(table.column_names.index(name), name, pa.array([np.nan]))
    data, skipped = write_klv(table, fx.EPOCH)
    assert skipped == Counter()
    assert np.array_equal(_velocity(read_klv(data).detections), np.zeros((1, 3)))


def test_writer_counts_bad_rows():
    table = fx.eoir_table(np.random.default_rng(9), n_targets=1, times=[0.0, 1.0, 2.0])
    table = table.set_column(
        table.column_names.index("marking"), "marking", pa.array([fx.MARKING, "junk", fx.MARKING])
    )
    table = table.set_column(table.column_names.index("t"), "t", pa.array([0.0, 1.0, np.nan]))
    data, skipped = write_klv(table, fx.EPOCH)
    assert skipped == Counter({"bad marking or node": 1, "non-finite time": 1})
    assert read_klv(data).records == 1


# ------------------------------------------------------------------ fuzz

_CORPUS = (
    write_klv(fx.eoir_table(np.random.default_rng(5), n_targets=1, times=[0.0]), fx.EPOCH)[0]
    + _packet()
)


def _with_checksum(packet: bytearray) -> bytes:
    from stanag4609.klv.checksum import running_sum_16

    packet[-2:] = running_sum_16(bytes(packet[:-2])).to_bytes(2, "big")
    return bytes(packet)


@st.composite
def malformed_klv(draw) -> bytes:
    """Random bytes, or the corpus mutated by a seeded generator (few draws: fast)."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=300))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    if kind == 1:  # a packet with values mutated and a valid checksum
        packet = bytearray(_packet())
        for _ in range(rng.randint(1, 3)):
            packet[rng.randint(len(ST0601_KEY) + 1, len(packet) - 5)] = rng.randrange(256)
        return _with_checksum(packet)
    data = bytearray(_CORPUS if kind == 2 else _CORPUS[: len(_CORPUS) // 2])
    return fx.mutate(data, rng)


@settings(max_examples=10_000, suppress_health_check=[HealthCheck.too_slow])
@given(malformed_klv())
def test_fuzz_reader_never_raises_and_accounts(data):
    result = read_klv(data, marking=fx.MARKING, node="USA")
    assert isinstance(result, IngestResult)
    assert result.records + sum(result.skipped.values()) == result.packets
    assert result.detections.num_rows == result.records
    assert result.detections.column_names == list(COLUMNS)
    assert all(count > 0 for count in result.skipped.values())
