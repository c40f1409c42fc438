"""Unit tests of the STANAG 4607 GMTI reader and writer (hyperdef.io.gmti).

Fixtures are simulated MQ-9 radar reports (tests/unit/io_fixtures.py) written by
:func:`write_gmti`; the ``stanag4607`` package decodes and validates the same bytes.
Quantisation bounds come from the field formats of AEDP-7 / AEDP-4607: SA32 latitude
(180 / 2^32 deg per step), BA32 longitude (360 / 2^32 deg), D32.6 height in whole
metres, D32.7 line-of-sight velocity in cm/s, D9 sensor altitude in cm, D6 dwell time
in ms, D15 track as BA16 (360 / 2^16 deg), D16 speed in mm/s, D17 vertical velocity in
dm/s, D32.12 / D32.13 / D32.14 sigmas in cm / dm / m, D32.9 SNR in whole dB; a rounding
encoder is off by half a step.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import io_fixtures as fx
import numpy as np
import pyarrow as pa
import pytest
import stanag4607
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperdef.core.frames import aer_to_ecef, ecef_to_lla, enu_rotation, lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.io import IngestResult
from hyperdef.io.gmti import GMTI_SCHEMA, _axes, read_gmti, write_gmti
from hyperdef.sensors.detections import COLUMNS, concat_detections, measurements

R_MAX_M = 6.4e6  # above the largest radius of curvature of WGS-84
HALF_LAT_M = R_MAX_M * math.radians(180.0 / 2**32) / 2  # 2.3 mm
HALF_LON_M = R_MAX_M * math.radians(360.0 / 2**32) / 2  # 4.7 mm
HALF_HEIGHT_M = 0.5
SENSOR_SPEED_M_S = 90.0  # the default racetrack
#: sensor velocity error: D15 half step times the speed, D16 mm/s, D17 dm/s
HALF_SENSOR_V_M_S = SENSOR_SPEED_M_S * math.radians(360.0 / 2**16) / 2 + 0.0005 + 0.05
SLOP = 1e-6
MQ9_HEADER_OFFSET_D5 = 32 + 5 + 39 + 5 + 8 + 2 + 2 + 1  # header, mission, dwell hdr, D1-D4


def _xyz(table, prefix="sensor_"):
    return np.column_stack([table.column(prefix + c).to_numpy() for c in "xyz"])


def _velocity(table):
    return np.column_stack([table.column(f"sensor_v{c}").to_numpy() for c in "xyz"])


def _assert_within_quantisation(actual_r, expected_r, half_up=HALF_HEIGHT_M):
    rot = enu_rotation(ecef_to_lla(expected_r))
    err = np.abs(np.einsum("nij,nj->ni", rot, actual_r - expected_r))
    assert np.all(err[:, 0] <= HALF_LON_M + SLOP), f"east error {err[:, 0].max()} m"
    assert np.all(err[:, 1] <= HALF_LAT_M + SLOP), f"north error {err[:, 1].max()} m"
    assert np.all(err[:, 2] <= half_up + SLOP), f"up error {err[:, 2].max()} m"


@pytest.fixture(scope="module")
def radar():
    return fx.radar_table(np.random.default_rng(11))


@pytest.fixture(scope="module")
def radar_stream(radar):
    data, skipped = write_gmti(radar, fx.EPOCH)
    assert skipped == Counter()
    return data


def _packets(data: bytes):
    decoder = stanag4607.PacketStreamDecoder()
    packets = decoder.feed(data)
    decoder.finish()
    return packets


# ------------------------------------------------------------------ round trips


def test_round_trip_raer_within_quantisation(radar, radar_stream):
    result = read_gmti(radar_stream, marking="REL TO JPN, USA", epoch=fx.EPOCH)
    assert isinstance(result, IngestResult) and result.format == "gmti"
    assert result.records == radar.num_rows and result.skipped == Counter()
    assert result.packets == len(set(radar.column("t").to_pylist()))  # a dwell per look
    table = result.detections
    assert table.schema.names == GMTI_SCHEMA.names
    assert table.column_names[: len(COLUMNS)] == list(COLUMNS)
    rows, z_raer, R_raer = measurements(radar, "raer")
    sensor = _xyz(radar)
    expected = aer_to_ecef(z_raer[:, :3], ecef_to_lla(sensor))
    position = np.array(table.column("z").to_pylist())
    _assert_within_quantisation(position, expected)
    _assert_within_quantisation(_xyz(table), sensor, half_up=0.005)
    assert np.all(np.abs(table.column("t").to_numpy() - radar.column("t").to_numpy()) <= 5e-4)
    dv = np.linalg.norm(_velocity(table) - _velocity(radar), axis=-1)
    assert np.all(dv <= HALF_SENSOR_V_M_S), dv.max()
    # range-rate: D32.7 in cm/s, plus the sensor velocity quantisation along the LOS
    range_rate = table.column("range_rate_m_s").to_numpy()
    assert np.all(np.abs(range_rate - z_raer[:, 3]) <= 0.005 + HALF_SENSOR_V_M_S)
    # sigmas along the line of sight, across it, and w: cm, dm, m steps
    u, c, w, slant = _axes(expected, sensor)
    R = np.array(table.column("R").to_pylist()).reshape(-1, 3, 3)
    # range error lies along u; azimuth error across it, horizontally, scaled by
    # r cos(el); elevation error along w, scaled by r
    sigma_s = np.sqrt(np.einsum("ni,nij,nj->n", u, R, u))
    assert np.allclose(sigma_s, np.sqrt(R_raer[:, 0, 0]), atol=0.005 + 1e-6)
    sigma_c = np.sqrt(np.einsum("ni,nij,nj->n", c, R, c))
    cross = slant * np.cos(z_raer[:, 2]) * np.sqrt(R_raer[:, 1, 1])
    assert np.allclose(sigma_c, cross, rtol=1e-3, atol=0.05 + 1e-6)
    sigma_w = np.sqrt(np.einsum("ni,nij,nj->n", w, R, w))
    assert np.allclose(sigma_w, slant * np.sqrt(R_raer[:, 2, 2]), rtol=1e-3, atol=0.5 + 1e-6)
    snr_db = 10 * np.log10(table.column("snr").to_numpy())
    assert np.all(np.abs(snr_db - 10 * np.log10(radar.column("snr").to_numpy())) <= 0.5 + 1e-9)
    assert set(table.column("sensor_id").to_pylist()) == {"MQ9"}
    assert set(table.column("node").to_pylist()) == {"JPN"}
    assert set(table.column("marking").to_pylist()) == {"REL TO USA, JPN"}
    assert set(table.column("truth_id").to_pylist()) == {-1}


def test_xyz_rows_carry_no_velocity_or_snr():
    eoir = fx.eoir_table(np.random.default_rng(4))
    data, skipped = write_gmti(eoir, fx.EPOCH, platform_id="MQ9-USAF-7")
    assert skipped == Counter()
    result = read_gmti(data, marking=fx.MARKING, epoch=fx.EPOCH)
    table = result.detections
    assert np.all(np.isnan(table.column("range_rate_m_s").to_numpy()))
    assert np.all(np.isnan(table.column("snr").to_numpy()))
    _, z, _ = measurements(eoir, "xyz")
    _assert_within_quantisation(np.array(table.column("z").to_pylist()), z)
    assert set(table.column("sensor_id").to_pylist()) == {"MQ9-USAF-7"}
    assert set(table.column("node").to_pylist()) == {"USA"}


def test_one_dwell_per_sensor_and_time_and_los_skipped():
    table = fx.mixed_table()
    data, skipped = write_gmti(table, fx.EPOCH)
    assert skipped == Counter({"los row has no position": 1})
    positional = table.filter(pa.compute.not_equal(table.column("meas_type"), "los"))
    keys = set(
        zip(
            positional.column("sensor_id").to_pylist(),
            positional.column("t").to_pylist(),
            strict=True,
        )
    )
    assert len(_packets(data)) == len(keys)
    assert read_gmti(data, marking=fx.MARKING).records == positional.num_rows


def test_large_dwell_split_over_packets():
    rng = np.random.default_rng(3)
    table = fx.radar_table(rng, n_targets=1, times=[0.0])
    big = concat_detections([table] * 2500)
    data, _ = write_gmti(big, fx.EPOCH)
    assert len(_packets(data)) == 3
    assert read_gmti(data, marking=fx.MARKING).records == 2500


# ------------------------------------------------------------------ independent decoder


def test_stanag4607_decodes_and_validates(radar, radar_stream):
    result = read_gmti(radar_stream, marking=fx.MARKING, epoch=fx.EPOCH)
    lla = ecef_to_lla(np.array(result.detections.column("z").to_pylist()))
    t = result.detections.column("t").to_numpy()
    i = 0
    for packet in _packets(radar_stream):
        assert stanag4607.validate_packet_header(packet.header) == ()
        assert packet.header.version_id == b"31" and packet.header.nationality == b"JP"
        assert packet.header.security_classification == 5  # UNCLASSIFIED
        mission = stanag4607.decode_mission_segment(packet.segments[0])
        assert stanag4607.validate_mission(mission) == ()
        reference = datetime(
            mission.reference_year, mission.reference_month, mission.reference_day, tzinfo=UTC
        )
        dwell = stanag4607.decode_dwell_segment(packet.segments[1])
        assert stanag4607.validate_dwell(dwell) == ()
        instant = reference + timedelta(milliseconds=dwell.dwell_time_milliseconds)
        for k, target in enumerate(dwell.targets):
            location = dwell.target_location(k)
            assert location.encoding == "high_resolution"
            lon = float(location.longitude.degrees)
            assert math.degrees(lla[i, 0]) == pytest.approx(
                float(location.latitude.degrees), abs=1e-12
            )
            assert math.degrees(lla[i, 1]) == pytest.approx(lon - 360 * (lon >= 180), abs=1e-12)
            assert lla[i, 2] == pytest.approx(target.geodetic_height_meters, abs=1e-6)
            assert t[i] == pytest.approx((instant - fx.EPOCH).total_seconds(), abs=1e-9)
            i += 1
    assert i == radar.num_rows


def test_reduced_resolution_locations(radar_stream):
    """D32.4/D32.5 offsets from the dwell centre in units of D10/D11 ([AEDP7] D32.4)."""
    from hyperdef.io.gmti import _DWELL_FORMATS, _TARGET_FORMATS, _mask, _pack

    packet = _packets(radar_stream)[0]
    dwell = stanag4607.decode_dwell_segment(packet.segments[1])
    field = dict(zip(dwell.mask.present_dwell_fields, dwell.fields, strict=True))
    values = {
        f: np.array([int.from_bytes(b, "big", signed=f in (7, 9, 17, 24))])
        for f, b in field.items()
    }
    scale_lat, scale_lon = 512, 512  # raw SA32 / BA32 steps per offset unit (~5 m)
    values[10], values[11] = np.array([scale_lat]), np.array([scale_lon])
    targets = {1: [], 4: [], 5: [], 6: []}
    for k, target in enumerate(dwell.targets):
        lat_raw = target.high_resolution_latitude.raw
        lon_raw = target.high_resolution_longitude.raw
        targets[1].append(k)
        targets[4].append(round((lat_raw - dwell.center_latitude.raw) / scale_lat))
        d_lon = (lon_raw - dwell.center_longitude.raw + 2**31) % 2**32 - 2**31
        targets[5].append(round(d_lon / scale_lon))
        targets[6].append(target.geodetic_height_meters)
    assert max(abs(v) for f in (4, 5) for v in targets[f]) < 2**15  # S16 offsets
    formats = {**_DWELL_FORMATS, 10: ">i4", 11: ">u4"}
    payload = (
        _mask(values, targets)
        + _pack(formats, values, 1)
        + _pack(_TARGET_FORMATS, {f: np.array(v) for f, v in targets.items()}, len(dwell.targets))
    )
    segment = stanag4607.Segment(stanag4607.DWELL_SEGMENT_TYPE, payload)
    reduced = stanag4607.decode_dwell_segment(segment)
    assert reduced.target_location(0).encoding == "reduced"
    head = packet.header.to_bytes()[:2] + (32 + 44 + len(segment.to_bytes())).to_bytes(4, "big")
    data = head + packet.header.to_bytes()[6:] + packet.segments[0].to_bytes() + segment.to_bytes()
    result = read_gmti(data, marking=fx.MARKING, epoch=fx.EPOCH)
    full = read_gmti(_one_per_packet(radar_stream)[0], marking=fx.MARKING, epoch=fx.EPOCH)
    z, z_full = (np.array(r.detections.column("z").to_pylist()) for r in (result, full))
    half_lat_m = R_MAX_M * math.radians(scale_lat * 180.0 / 2**32) / 2
    half_lon_m = R_MAX_M * math.radians(scale_lon * 360.0 / 2**32) / 2
    assert np.all(np.linalg.norm(z - z_full, axis=-1) <= math.hypot(half_lat_m, half_lon_m))
    assert np.all(np.isnan(result.detections.column("range_rate_m_s").to_numpy()))


# ------------------------------------------------------------------ bad packets


def _one_per_packet(data: bytes) -> list[bytes]:
    return [
        p.header.to_bytes() + b"".join(s.to_bytes() for s in p.segments) for p in _packets(data)
    ]


def test_truncated_and_corrupt_counted_and_good_read(radar_stream):
    p = _one_per_packet(radar_stream)
    bad_dwell = bytearray(p[3])
    bad_dwell[MQ9_HEADER_OFFSET_D5 + 1] += 1  # D5 target count one too many
    stream = b"\x00garbage!" + p[0] + p[1][:-7] + p[2] + bytes(bad_dwell) + p[4] + p[5][:40]
    result = read_gmti(stream, marking=fx.MARKING)
    assert result.skipped == Counter(
        {"unrecognised bytes": 1, "truncated packet": 2, "corrupt dwell segment": 1}
    )
    assert result.records == 3 * 4 and result.packets == 7
    good = read_gmti(p[0] + p[2] + p[4], marking=fx.MARKING).detections
    assert result.detections.equals(good)


def test_dwell_without_mission_and_node_rules(radar_stream):
    packet = _packets(radar_stream)[0]
    dwell_only = stanag4607.Packet(
        stanag4607.PacketHeader(
            *[
                getattr(packet.header, f)
                for f in (
                    "version_id",
                    "packet_size",
                    "nationality",
                    "security_classification",
                    "classification_system",
                    "security_codes",
                    "exercise_indicator",
                    "platform_id",
                    "mission_id",
                    "job_id",
                )
            ]
        ),
        (),
    )
    body = packet.segments[1].to_bytes()
    header = bytearray(dwell_only.header.to_bytes())
    header[2:6] = (32 + len(body)).to_bytes(4, "big")
    result = read_gmti(bytes(header) + body, marking=fx.MARKING)
    assert result.skipped == Counter({"dwell without mission segment": 1})
    # nationality and classification system unknown: the node argument, else skipped
    full = bytearray(_one_per_packet(radar_stream)[0])
    full[6:8], full[9:11] = b"ZZ", b"ZZ"
    assert read_gmti(bytes(full), marking=fx.MARKING).skipped == Counter({"no source node": 1})
    taken = read_gmti(bytes(full), marking=fx.MARKING, node="AUS").detections
    assert set(taken.column("node").to_pylist()) == {"AUS"}
    full[9:11] = b"UK"  # STANAG 1059 digraph of GBR in the classification system field
    named = read_gmti(bytes(full), marking=fx.MARKING, node="AUS").detections
    assert set(named.column("node").to_pylist()) == {"GBR"}


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({}, "marking"),
        ({"marking": "USA"}, "marking"),
        ({"marking": fx.MARKING, "node": "XYZ"}, "node"),
        ({"marking": fx.MARKING, "epoch": datetime(2026, 3, 1)}, "epoch"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, name):
    with pytest.raises(InputError, match=f"^{name}"):
        read_gmti(b"\x00\x01 not even GMTI", **kwargs)


def test_marking_checked_before_data():
    with pytest.raises(InputError, match="^marking"):
        read_gmti("not bytes")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="^data"):
        read_gmti("not bytes", marking=fx.MARKING)  # type: ignore[arg-type]


def test_writer_counts_what_4607_cannot_carry():
    rng = np.random.default_rng(8)
    table = fx.radar_table(rng, n_targets=1, times=[0.0, 2.0, 4.0])
    z = np.array(table.column("z").to_pylist())
    z[1, 3] = 2000.0  # a glide vehicle's range-rate: beyond D32.7's 327.67 m/s
    z[2, 2] = 0.9  # 0.9 rad up at ~50 km: tens of km high, beyond D32.6
    table = table.set_column(
        table.column_names.index("z"), "z", pa.array([list(r) for r in z], pa.list_(pa.float64()))
    )
    data, skipped = write_gmti(table, fx.EPOCH)
    assert skipped == Counter(
        {
            "line-of-sight velocity beyond STANAG 4607 range": 1,
            "target height outside STANAG 4607 range": 1,
        }
    )
    assert read_gmti(data, marking=fx.MARKING).records == 1
    with pytest.raises(InputError, match="^epoch"):
        write_gmti(table, datetime(2026, 3, 1))
    with pytest.raises(InputError, match="^platform_id"):
        write_gmti(table, fx.EPOCH, platform_id=7)  # type: ignore[arg-type]


def test_target_directly_below_has_finite_covariance():
    lla = np.array([[0.5, 2.2, 15_000.0]])
    target = lla_to_ecef(np.array([[0.5, 2.2, 0.0]]))
    u, c, w, slant = _axes(target, lla_to_ecef(lla))
    assert np.allclose(np.abs(np.einsum("ni,ni->n", u, c)), 0.0)
    assert np.all(np.isfinite(w)) and slant[0] == pytest.approx(15_000.0)


def test_unknown_sensor_velocity_written_without_d15_d17():
    table = fx.radar_table(np.random.default_rng(6), n_targets=2, times=[0.0])
    for name in ("sensor_vx", "sensor_vy", "sensor_vz"):
        table = table.set_column(table.column_names.index(name), name, pa.array([np.nan, np.nan]))
    data, skipped = write_gmti(table, fx.EPOCH)
    assert skipped == Counter()
    assert np.array_equal(
        _velocity(read_gmti(data, marking=fx.MARKING).detections), np.zeros((2, 3))
    )


def test_writer_counts_bad_rows():
    table = fx.eoir_table(np.random.default_rng(9), n_targets=1, times=[0.0, 1.0, 2.0])
    table = table.set_column(
        table.column_names.index("node"), "node", pa.array(["USA", "XYZ", "USA"])
    )
    table = table.set_column(table.column_names.index("t"), "t", pa.array([0.0, 1.0, np.nan]))
    data, skipped = write_gmti(table, fx.EPOCH)
    assert skipped == Counter({"bad node": 1, "non-finite time": 1})
    assert read_gmti(data, marking=fx.MARKING).records == 1


# ------------------------------------------------------------------ fuzz

_CORPUS = write_gmti(
    fx.radar_table(np.random.default_rng(5), n_targets=3, times=[0.0, 2.0]), fx.EPOCH
)[0]
_PACKET = _CORPUS[: len(_CORPUS) // 2]
_PACKET_LEVEL = {"truncated packet", "unrecognised bytes", "corrupt packet", "no source node"}


@st.composite
def malformed_gmti(draw) -> bytes:
    """Random bytes, or the corpus mutated by a seeded generator (few draws: fast)."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=300))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    data = bytearray(_CORPUS if kind == 2 else _PACKET)
    if kind == 1:  # field values only: the framing stays valid, the decoders see garbage
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(32 + 5, len(data))] = rng.randrange(256)
        return bytes(data)
    return fx.mutate(data, rng)


@settings(max_examples=10_000, suppress_health_check=[HealthCheck.too_slow])
@given(malformed_gmti())
def test_fuzz_reader_never_raises_and_accounts(data):
    result = read_gmti(data, marking=fx.MARKING)
    assert isinstance(result, IngestResult)
    assert result.detections.num_rows == result.records
    assert result.detections.schema.names == GMTI_SCHEMA.names
    assert all(count > 0 for count in result.skipped.values())
    whole = sum(n for reason, n in result.skipped.items() if reason in _PACKET_LEVEL)
    assert whole <= result.packets
    if not result.packets:
        assert not data and not result.records
