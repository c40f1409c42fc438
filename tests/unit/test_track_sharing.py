"""Track-sharing links: a node's picture from its own and its partners' tracks
(hyperdef.tracking.track_sharing). Synthetic straight-line targets with known states,
so track numbers, latency and markings are checked exactly."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from hyperdef.errors import InputError
from hyperdef.tracking.track_sharing import REMOTE_ID_BASE, shared_track_picture
from hyperdef.tracking.tracker import TRACKS_SCHEMA

R0 = np.array([-3.0e6, 4.0e6, 3.2e6])  # a point about 40 km above the Sea of Japan
V0 = np.array([1500.0, -500.0, 200.0])
P0 = np.diag([50.0**2] * 3 + [5.0**2] * 3)


def straight_tracks(times, track_id, node, marking, *, offset=(0.0, 0.0, 0.0), truth=0,
                    status="confirmed"):
    """One track on the straight line R0 + V0 t (shifted by ``offset`` m), one row per time."""
    t = np.asarray(times, float)
    r = R0 + V0 * t[:, None] + np.asarray(offset)
    n = t.size
    return pa.table({
        "t": t, "track_id": np.full(n, track_id, np.int64), "node": [node] * n,
        "status": [status] * n,
        **{c: r[:, k] for k, c in enumerate("xyz")},
        **{c: np.full(n, V0[k]) for k, c in enumerate(("vx", "vy", "vz"))},
        "P": [P0.reshape(-1).tolist()] * n, "model_probs": [[] for _ in range(n)],
        "marking": [marking] * n, "n_updates": np.full(n, 5, np.int64),
        "truth_id": np.full(n, truth, np.int64),
    }, schema=TRACKS_SCHEMA)


def test_fused_track_keeps_own_number_and_intersects_markings():
    own = straight_tracks(np.arange(0.0, 20.0, 1.0), 7, "JPN", "REL TO USA, JPN")
    theirs = straight_tracks(np.arange(0.0, 20.0, 1.0), 3, "USA", "REL TO USA, AUS, JPN",
                             offset=(30.0, 0.0, 0.0))
    pic = shared_track_picture(own, {"USA": (theirs, 2.0)}, "JPN")
    assert pic.schema.equals(TRACKS_SCHEMA, check_metadata=False)
    assert set(pic.column("node").to_pylist()) == {"JPN"}
    # once the partner's tracks have arrived, one fused track with the own number
    late = pic.filter(pa.compute.greater_equal(pic.column("t"), 3.0))
    assert set(late.column("track_id").to_pylist()) == {7}
    assert set(late.column("marking").to_pylist()) == {"REL TO USA, JPN"}
    # the fused estimate lies between the two (CI never leaves the segment's hull here)
    x = late.column("x").to_numpy() - (R0[0] + V0[0] * late.column("t").to_numpy())
    assert np.all((x > -1.0) & (x < 31.0))


def test_partner_only_track_is_numbered_apart_and_arrives_after_the_latency():
    own = straight_tracks(np.arange(0.0, 30.0, 1.0), 2, "JPN", "REL TO JPN")
    # a second target, 200 km away, that only the partner tracks, from t = 10 s on
    theirs = straight_tracks(np.arange(10.0, 30.0, 1.0), 5, "USA", "REL TO USA, JPN",
                             offset=(2.0e5, 0.0, 0.0), truth=1)
    pic = shared_track_picture(own, {"USA": (theirs, 4.0)}, "JPN")
    remote = pic.filter(pa.compute.equal(pic.column("truth_id"), 1))
    assert set(remote.column("track_id").to_pylist()) == {REMOTE_ID_BASE + 5}
    assert remote.column("t").to_numpy().min() == pytest.approx(14.0)  # 10 s + 4 s latency
    # predicted to the picture's time: on the true line, though formed 4 s earlier
    t = remote.column("t").to_numpy()
    r = np.column_stack([remote.column(c).to_numpy() for c in "xyz"])
    truth = R0 + V0 * t[:, None] + np.array([2.0e5, 0.0, 0.0])
    assert np.max(np.linalg.norm(r - truth, axis=1)) < 1e-6
    # the own, national-only track stays national; the picture mixes both markings
    assert set(pic.filter(pa.compute.equal(pic.column("track_id"), 2))
               .column("marking").to_pylist()) == {"REL TO JPN"}


def test_partner_tentative_tracks_are_not_shared_and_ended_tracks_drop_out():
    own = straight_tracks(np.arange(0.0, 40.0, 1.0), 1, "JPN", "REL TO USA, JPN")
    tentative = straight_tracks(np.arange(0.0, 10.0, 1.0), 9, "USA", "REL TO USA, JPN",
                                offset=(5.0e5, 0.0, 0.0), truth=2, status="tentative")
    ended = straight_tracks(np.arange(0.0, 10.0, 1.0), 4, "USA", "REL TO USA, JPN",
                            offset=(3.0e5, 0.0, 0.0), truth=1)
    received = pa.concat_tables([tentative, ended])
    pic = shared_track_picture(own, {"USA": (received, 1.0)}, "JPN")
    assert 2 not in set(pic.column("truth_id").to_pylist())
    remote_t = pic.filter(pa.compute.equal(pic.column("truth_id"), 1)).column("t").to_numpy()
    # last scan at 9 s arrives at 10 s and is dropped after two scan intervals (2 s)
    assert remote_t.max() == pytest.approx(12.0)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"interval_s": 0.0}, "interval_s"),
    ({"max_age_s": -1.0}, "max_age_s"),
    ({"node": "XXX"}, "node"),
    ({"received_latency": -2.0}, "latency"),
    ({"received_latency": float("nan")}, "latency"),
])
def test_bad_input_names_the_field(kwargs, field):
    own = straight_tracks([0.0, 1.0], 1, "JPN", "REL TO USA, JPN")
    latency = kwargs.pop("received_latency", 1.0)
    node = kwargs.pop("node", "JPN")
    with pytest.raises(InputError, match=field):
        shared_track_picture(own, {"USA": (own, latency)}, node, **kwargs)


def test_a_node_cannot_receive_its_own_tracks():
    own = straight_tracks([0.0, 1.0], 1, "JPN", "REL TO USA, JPN")
    with pytest.raises(InputError, match="received"):
        shared_track_picture(own, {"JPN": (own, 1.0)}, "JPN")
