"""Unit tests of the columnar Trajectory: offsets, Parquet round trip, summary."""

import numpy as np
import pyarrow.parquet as pq
import pytest

from hyperdef.threats import fly
from hyperdef.threats.trajectory import PHASES, summarize


@pytest.fixture(scope="module")
def pair():
    launch = np.radians([30.0, 130.0])
    aims = np.radians([[30.0, 138.0], [25.0, 136.0]])
    return fly("ballistic", launch, aims, t_launch_s=[0.0, 42.0])


def test_offsets_partition_the_rows(pair):
    assert pair.n_objects == 2
    assert pair.offsets[0] == 0 and pair.offsets[-1] == pair.t.size
    for i in range(2):
        t = pair.t[pair.rows(i)]
        assert np.all(np.diff(t) > 0), "each object's samples are in time order"
    assert pair.t[pair.offsets[1]] == 42.0, "the second object starts at its launch time"
    np.testing.assert_array_equal(pair.object_index, np.repeat([0, 1], np.diff(pair.offsets)))


def test_parquet_round_trip_is_lossless(pair, tmp_path):
    path = tmp_path / "truth.parquet"
    pq.write_table(pair.to_table(), path)
    back = pq.read_table(path)
    assert back.equals(pair.to_table())
    np.testing.assert_array_equal(back.column("x").to_numpy(), pair.r_ecef_m[:, 0])
    assert set(back.column("phase").to_pylist()) <= set(PHASES)
    assert back.schema.field("alt").metadata[b"unit"] == b"m"


def test_summary_is_plain_json_numbers(pair):
    import json

    s = summarize(pair, 1)
    assert json.loads(json.dumps(s)) == s
    assert s["kind"] == "ballistic" and s["status"] == "impact"
    assert s["min_glide_alt_km"] is None, "a ballistic missile has no glide"
    assert sum(s["phase_time_s"].values()) == pytest.approx(s["flight_time_s"], abs=1.0)
