"""Cursor on Target reader and writer (hyperdef.io.cot)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperdef.core.frames import enu_rotation, lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.io.cot import (
    CE90_PER_SIGMA,
    LE90_PER_SIGMA,
    UNKNOWN_VELOCITY_SIGMA_M_S,
    read_cot,
    track_id_from_uid,
    write_cot,
)
from hyperdef.sensors.detections import make_detections
from hyperdef.tracking.measurements import measurement_to_ecef

EPOCH = datetime(2026, 11, 28, tzinfo=UTC)


def event(
    uid="T1", time="2026-11-28T01:02:03.25Z", lat="35.0", lon="139.5", hae="20000",
    ce="21.46", le="16.449", attrs=' releasableTo="JPN USA"', detail="",
) -> bytes:
    return (
        f'<event version="2.0" uid="{uid}" type="a-h-A" how="m-f" time="{time}" '
        f'start="{time}" stale="2026-11-28T02:00:00Z"{attrs}>'
        f'<point lat="{lat}" lon="{lon}" hae="{hae}" ce="{ce}" le="{le}"/>'
        f"<detail>{detail}</detail></event>"
    ).encode()


def column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_pylist())


def covariances(table: pa.Table) -> np.ndarray:
    return np.asarray(table.column("P").to_pylist()).reshape(-1, 6, 6)


def test_one_event_maps_to_a_track_row():
    detail = '<track course="90" speed="2000" eSpeed="10" eCourse="1"/>'
    result = read_cot(event(detail=detail), epoch=EPOCH)
    assert result.format == "cot" and result.packets == 1 and not result.skipped
    row = result.tracks.to_pylist()[0]
    lla = np.array([np.radians(35.0), np.radians(139.5), 20000.0])
    np.testing.assert_allclose([row["x"], row["y"], row["z"]], lla_to_ecef(lla), atol=1e-6)
    assert row["t"] == pytest.approx(3723.25)
    assert row["uid"] == "T1" and row["cot_type"] == "a-h-A"
    assert row["track_id"] == track_id_from_uid("T1") >= 0
    assert row["status"] == "confirmed" and row["model_probs"] == []
    assert row["node"] == "JPN" and row["marking"] == "REL TO USA, JPN"
    rotation = enu_rotation(lla)
    velocity_enu = rotation @ np.array([row["vx"], row["vy"], row["vz"]])
    np.testing.assert_allclose(velocity_enu, [2000.0, 0.0, 0.0], atol=1e-9)
    P = np.asarray(row["P"]).reshape(6, 6)
    position_enu = rotation @ P[:3, :3] @ rotation.T
    sigma_h, sigma_v = 21.46 / CE90_PER_SIGMA, 16.449 / LE90_PER_SIGMA
    np.testing.assert_allclose(np.diag(position_enu), [sigma_h**2, sigma_h**2, sigma_v**2])
    velocity_cov = rotation @ P[3:, 3:] @ rotation.T
    # east is along the track (eSpeed), north across it (speed * eCourse)
    assert velocity_cov[0, 0] == pytest.approx(100.0)
    assert velocity_cov[1, 1] == pytest.approx((2000.0 * np.radians(1.0)) ** 2)


def test_ce_le_factors_are_the_90_percent_points():
    assert 1.0 - np.exp(-(CE90_PER_SIGMA**2) / 2.0) == pytest.approx(0.9)
    assert CE90_PER_SIGMA == pytest.approx(2.1460, abs=1e-4)
    assert LE90_PER_SIGMA == pytest.approx(1.6449, abs=1e-4)


def test_event_without_track_has_zero_velocity_and_large_variance():
    row = read_cot(event(), epoch=EPOCH).tracks.to_pylist()[0]
    assert (row["vx"], row["vy"], row["vz"]) == (0.0, 0.0, 0.0)
    P = np.asarray(row["P"]).reshape(6, 6)
    np.testing.assert_allclose(P[3:, 3:], UNKNOWN_VELOCITY_SIGMA_M_S**2 * np.eye(3), atol=1e-6)
    np.testing.assert_array_equal(P, P.T)


def test_stream_and_wrapper_give_the_same_rows():
    events = [event(uid=f"T{k}") for k in range(3)]
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    stream = b"\n".join(declaration + e for e in events)
    wrapped = declaration + b"<events>" + b"".join(events) + b"</events>"
    a, b = read_cot(stream, epoch=EPOCH), read_cot(wrapped, epoch=EPOCH)
    assert a.packets == b.packets == 3 and a.records == b.records == 3
    assert a.tracks.equals(b.tracks)


def test_default_epoch_is_midnight_of_the_earliest_event():
    result = read_cot(event(time="2026-11-27T23:59:59Z") + event(uid="T2"))
    assert result.epoch == datetime(2026, 11, 27, tzinfo=UTC)
    np.testing.assert_allclose(column(result.tracks, "t"), [86399.0, 86400.0 + 3723.25])


def test_time_offsets_and_fractions():
    rows = read_cot(
        event(time="2026-11-28T10:00:00.123456789+09:00")
        + event(uid="B", time="2026-11-28T01:00:00Z"),
        epoch=EPOCH,
    ).tracks
    np.testing.assert_allclose(column(rows, "t"), [3600.123456789, 3600.0])


@pytest.mark.parametrize(
    ("attrs", "detail", "marking", "expected"),
    [
        (' releasableTo="USA JPN"', "", None, "REL TO USA, JPN"),
        (' releaseableTo="JPN,AUS"', "", None, "REL TO AUS, JPN"),
        (' releasableTo="REL TO USA, GBR"', "", None, "REL TO USA, GBR"),
        ("", '<__releasability releasableTo="KOR USA"/>', None, "REL TO USA, KOR"),
        (' access="Unclassified" caveat="FOUO"', "", "REL TO USA", "REL TO USA"),
        (' releasableTo="JPN"', "", "REL TO USA, AUS", "REL TO JPN"),
    ],
)
def test_releasability_mapping(attrs, detail, marking, expected):
    result = read_cot(event(attrs=attrs, detail=detail), marking=marking, epoch=EPOCH)
    assert result.tracks.column("marking").to_pylist() == [expected]


@pytest.mark.parametrize(
    ("attrs", "reason"),
    [
        ("", "no releasability marking"),
        (' releasableTo="USA XXX"', "bad releasableTo"),
        (' releasableTo=""', "bad releasableTo"),
        (' access="Secret" releasableTo="USA"', "access not unclassified"),
    ],
)
def test_events_without_usable_releasability_are_skipped(attrs, reason):
    result = read_cot(event(attrs=attrs) + event(uid="good"), epoch=EPOCH)
    assert result.skipped == {reason: 1}
    assert result.tracks.column("uid").to_pylist() == ["good"]


def test_node_from_argument_or_first_listed_nation():
    data = event(attrs=' releasableTo="AUS USA"')
    assert read_cot(data, epoch=EPOCH).tracks.column("node").to_pylist() == ["AUS"]
    assert read_cot(data, node="USA", epoch=EPOCH).tracks.column("node").to_pylist() == ["USA"]
    fallback = read_cot(event(attrs=""), marking="REL TO USA, JPN", epoch=EPOCH)
    assert fallback.tracks.column("node").to_pylist() == ["USA"]


def test_corrupt_events_are_counted_and_good_ones_load():
    bad = [
        (event(lat="95"), "latitude or longitude out of range"),
        (event(lon="-180.5"), "latitude or longitude out of range"),
        (event(ce="abc"), "bad or missing point attribute"),
        (event(le="nan"), "bad or missing point attribute"),
        (event(ce="0"), "non-positive ce or le"),
        (event(time="yesterday"), "bad or missing time"),
        (event(uid=""), "missing uid"),
        (event(detail='<track course="x" speed="1"/>'), "bad track attribute"),
        (event(detail='<track course="10"/>'), "bad track attribute"),
        (b'<event uid="a" time="2026-11-28T00:00:00Z" releasableTo="USA"/>', "missing point"),
        (b'<event uid="a" time="2026-11-28T00:00:00Z"><point lat="1" lon="2"', "malformed XML"),
    ]
    data = event(uid="good1") + b"".join(b for b, _ in bad) + event(uid="good2")
    result = read_cot(data, epoch=EPOCH)
    expected = {}
    for _, reason in bad:
        expected[reason] = expected.get(reason, 0) + 1
    assert dict(result.skipped) == expected
    assert result.tracks.column("uid").to_pylist() == ["good1", "good2"]
    assert result.packets == len(bad) + 2 == result.records + sum(result.skipped.values())


def test_entities_are_never_expanded():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<event uid="&lol2;" time="2026-11-28T00:00:00Z" releasableTo="USA">'
        b'<point lat="1" lon="2" hae="0" ce="1" le="1"/></event>'
    )
    result = read_cot(bomb, epoch=EPOCH)
    assert result.records == 0 and sum(result.skipped.values()) == result.packets == 1


def test_not_xml_is_counted_once():
    result = read_cot(b"\x00\x01 not xml at all", epoch=EPOCH)
    assert result.packets == 1 and result.skipped == {"no <event> element": 1}
    assert result.tracks.num_rows == 0
    assert read_cot(b"", epoch=EPOCH).packets == 0


def test_bad_arguments_name_the_argument():
    with pytest.raises(InputError, match="^data"):
        read_cot("<event/>")
    with pytest.raises(InputError, match="^marking"):
        read_cot(b"", marking="USA")
    with pytest.raises(InputError, match="^node"):
        read_cot(b"", node="XXX")
    with pytest.raises(InputError, match="^epoch"):
        read_cot(b"", epoch=datetime(2026, 1, 1))
    table = read_cot(event(), epoch=EPOCH).tracks
    with pytest.raises(InputError, match="^epoch"):
        write_cot(table, datetime(2026, 1, 1))
    with pytest.raises(InputError, match="^stale_s"):
        write_cot(table, EPOCH, stale_s=0.0)
    with pytest.raises(InputError, match="^table"):
        write_cot(table.select(["t", "x"]), EPOCH)
    with pytest.raises(InputError, match="^table"):
        write_cot({"t": []}, EPOCH)


def sample_events(n: int, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n):
        instant = EPOCH + timedelta(seconds=float(rng.uniform(0, 80000)))
        stamp = instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        nations = ["USA JPN", "JPN", "AUS USA"][k % 3]
        track = (
            f'<track course="{rng.uniform(0, 360)!r}" speed="{rng.uniform(1, 3000)!r}" '
            f'slope="{rng.uniform(-30, 30)!r}" eSpeed="{rng.uniform(1, 50)!r}" '
            f'eCourse="{rng.uniform(0.1, 5)!r}" eSlope="{rng.uniform(0.1, 5)!r}"/>'
        )
        parts.append(event(
            uid=f"U{k}", time=stamp, lat=repr(rng.uniform(-89, 89)),
            lon=repr(rng.uniform(-180, 180)), hae=repr(rng.uniform(0, 80000)),
            ce=repr(rng.uniform(1, 5000)), le=repr(rng.uniform(1, 5000)),
            attrs=f' releasableTo="{nations}"', detail=track if k % 4 else "",
        ))
    return b"".join(parts)


def test_tracks_round_trip_through_cot():
    first = read_cot(sample_events(40), epoch=EPOCH).tracks
    data, counts = write_cot(first, EPOCH, stale_s=30.0)
    assert counts == {"written": 40}
    second = read_cot(data, epoch=EPOCH)
    assert not second.skipped
    back = second.tracks
    for name in ("track_id", "uid", "node", "marking", "status", "cot_type"):
        assert back.column(name).to_pylist() == first.column(name).to_pylist(), name
    np.testing.assert_allclose(column(back, "t"), column(first, "t"), atol=1e-6)
    for name in ("x", "y", "z"):
        np.testing.assert_allclose(column(back, name), column(first, name), atol=1e-6)
    for name in ("vx", "vy", "vz"):
        np.testing.assert_allclose(column(back, name), column(first, name), atol=1e-8)
    np.testing.assert_allclose(covariances(back), covariances(first), rtol=1e-7, atol=1e-6)
    assert b'stale="' in data and b'type="a-h-A"' in data and b'access="Unclassified"' in data


def tracker_like_table(n: int = 3) -> pa.Table:
    from hyperdef.io.cot import tracks_table

    rng = np.random.default_rng(3)
    lla = np.stack((np.radians(rng.uniform(-60, 60, n)), np.radians(rng.uniform(-180, 180, n)),
                    rng.uniform(0, 5e4, n)), axis=1)
    state = np.concatenate((lla_to_ecef(lla), rng.normal(0, 1000, (n, 3))), axis=1)
    A = rng.normal(size=(n, 6, 6))
    P = A @ np.swapaxes(A, 1, 2) * 100.0 + np.eye(6) * 10.0
    return tracks_table(
        t=np.arange(n, dtype=float), track_id=np.arange(n, dtype=np.int64) + 7,
        node=["USA"] * n,
        status=["tentative", "confirmed", "deleted"][:n] + ["confirmed"] * (n - 3),
        state=state, P=P, marking=["REL TO USA, JPN"] * n,
    )


def test_tracker_table_exports_position_ce_le_and_skips_deleted_rows():
    table = tracker_like_table(3)
    data, counts = write_cot(table, EPOCH)
    assert counts == {"written": 2, "deleted track": 1}
    back = read_cot(data, epoch=EPOCH).tracks
    assert back.column("uid").to_pylist() == ["hyperdef.USA.7", "hyperdef.USA.8"]
    assert back.column("node").to_pylist() == ["USA", "USA"]
    for name in ("x", "y", "z", "vx", "vy", "vz"):
        np.testing.assert_allclose(column(back, name), column(table, name)[:2], atol=1e-6)
    P, P_back = covariances(table)[:2], covariances(back)
    # horizontal variance is kept in sum (circular CE), vertical exactly
    np.testing.assert_allclose(np.trace(P_back[:, :3, :3], axis1=1, axis2=2),
                               np.trace(P[:, :3, :3], axis1=1, axis2=2), rtol=1e-9)


def test_detections_export_as_detection_events_at_their_position():
    site = np.array([np.radians(35.0), np.radians(139.0), 50.0])
    z = np.array([[1e5, 0.5, 0.1], [2e5, 4.0, 0.2]])
    rae = make_detections(
        t=np.array([1.0, 2.0]), t_report=np.array([1.0, 2.0]), sensor_id="r1", node="JPN",
        meas_type="rae", z=z, R=np.diag([100.0, 1e-6, 1e-6]), sensor_r_ecef_m=lla_to_ecef(site),
        sensor_v_ecef_m_s=np.zeros(3), snr=np.nan, truth_id=np.array([1, 2]),
        false_alarm=False, marking="REL TO USA, JPN",
    )
    los = make_detections(
        t=np.array([3.0]), t_report=np.array([3.0]), sensor_id="ir", node="USA",
        meas_type="los", z=np.array([[0.1, 0.2]]), R=np.eye(2) * 1e-8,
        sensor_r_ecef_m=lla_to_ecef(site), sensor_v_ecef_m_s=np.zeros(3), snr=np.nan,
        truth_id=np.array([3]), false_alarm=False, marking="REL TO USA",
    )
    data, counts = write_cot(pa.concat_tables([rae, los]), EPOCH)
    assert counts == {"written": 2, "no position (los)": 1}
    back = read_cot(data, epoch=EPOCH).tracks
    assert back.column("cot_type").to_pylist() == ["b-d", "b-d"]
    assert back.column("node").to_pylist() == ["JPN", "JPN"]
    expected = measurement_to_ecef("rae", z, lla_to_ecef(site))
    got = np.stack([column(back, name) for name in ("x", "y", "z")], axis=1)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(column(back, "t"), [1.0, 2.0], atol=1e-6)


VALID = sample_events(3, seed=5)


def mutate(data: bytes, at: int, insert: bytes, flip: int, cut: int) -> bytes:
    """``data`` with ``insert`` put at ``at``, the byte at ``flip`` inverted, cut at ``cut``."""
    out = bytearray(data[:at] + insert + data[at:])
    if flip < len(out):
        out[flip] ^= 0xFF
    return bytes(out[:cut]) if cut >= at else bytes(out)


def mutated(valid: bytes) -> st.SearchStrategy[bytes]:
    """Valid data with one insertion (random bytes or XML punctuation), a flip and a cut.

    One integer draw seeds the mutation: cheap for hypothesis, so that 10,000 examples
    run in seconds.
    """
    size = len(valid)
    pieces = [b"<event ", b"</event>", b'"', b"<", b"&"]

    def build(seed: int) -> bytes:
        rng = random.Random(seed)
        if rng.random() < 0.3:
            insert = rng.choice(pieces)
        else:
            insert = rng.randbytes(rng.randint(0, 6))
        return mutate(valid, rng.randint(0, size), insert, rng.randint(0, 2 * size),
                      rng.randint(0, size + 8))

    return st.integers(0, 2**32 - 1).map(build)


@settings(max_examples=10_000, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.one_of(st.binary(max_size=200), mutated(VALID)))
def test_fuzz_malformed_input_never_raises(data):
    result = read_cot(data, epoch=EPOCH)
    assert result.packets == result.records + sum(result.skipped.values())
    assert all(count > 0 for count in result.skipped.values())
    assert result.tracks is not None and result.tracks.num_rows == result.records
