"""Access control matrix: every nation x marking x role x operation, zero leaks.

Markings are in canonical form (USA first, then A-Z), as the store keeps them. The
expected outcome of each request is computed independently of the store, from
``parse_marking`` and the rules of DESIGN.md: a record is visible to (and may be written
and fused by) a user whose nation its marking releases it to; only an admin of the
originating nation releases; only admins read the audit log.
"""

from __future__ import annotations

import itertools

import pyarrow as pa
import pytest
from store_fixtures import detections, result, tracks

from hyperdef.core.markings import parse_marking
from hyperdef.store import AccessDenied, Store
from hyperdef.store.access import PolicyEngine, Resource, User

#: nations of the matrix: FRA is on no marking below
NATIONS = ("USA", "JPN", "AUS", "KOR", "GBR", "FRA")
ROLES = ("analyst", "admin")
MARKINGS = (
    "REL TO USA",
    "REL TO JPN",
    "REL TO AUS",
    "REL TO KOR",
    "REL TO GBR",
    "REL TO USA, JPN",
    "REL TO USA, AUS, GBR",
    "REL TO USA, AUS, JPN, KOR",
    "REL TO JPN, KOR",
)


def originator(marking: str) -> str:
    """Originating node of the test data under a marking: its first nation."""
    return marking.removeprefix("REL TO ").split(",")[0].strip()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One store with a user per nation and role and one dataset per marking."""
    path = tmp_path_factory.mktemp("access") / "store.db"
    store = Store.open(f"sqlite:///{path}")
    users = {
        (nation, role): store.add_user(f"{nation}-{role}", nation, role)[0]
        for nation, role in itertools.product(NATIONS, ROLES)
    }
    datasets = {}
    for i, marking in enumerate(MARKINGS):
        node = originator(marking)
        table = detections(6, marking=marking, node=node, t0=100.0 * i, seed=i)
        track_table = tracks(4, marking=marking, node=node, t0=100.0 * i)
        summary = store.ingest(
            result(table, track_table), user=users[(node, "analyst")], dataset=marking
        )
        datasets[marking] = summary.dataset_id
    yield store, users, datasets
    store.close()


def visible(nation: str) -> set[str]:
    return {m for m in MARKINGS if nation in parse_marking(m)}


CASES = list(itertools.product(NATIONS, ROLES, MARKINGS))


@pytest.mark.parametrize(("nation", "role", "marking"), CASES)
def test_read_detections_and_tracks(world, nation, role, marking):
    store, users, datasets = world
    user = users[(nation, role)]
    expected = nation in parse_marking(marking)
    found = store.query_detections(user, dataset_id=datasets[marking])
    assert found.num_rows == (6 if expected else 0), f"{nation} {role} reading {marking}"
    assert store.query_tracks(user, dataset_id=datasets[marking]).num_rows == (4 if expected else 0)


@pytest.mark.parametrize(("nation", "role"), list(itertools.product(NATIONS, ROLES)))
def test_no_leak_over_all_data(world, nation, role):
    store, users, _ = world
    user = users[(nation, role)]
    for table in (store.query_detections(user), store.query_tracks(user)):
        markings = table.column("marking").to_pylist()
        assert all(nation in parse_marking(m) for m in markings), f"leak to {nation}"
        assert set(markings) == visible(nation)
    listed = {d["name"] for d in store.datasets(user)}
    assert listed == visible(nation) | {
        m for m in MARKINGS if (originator(m), "analyst") == (nation, role)
    }


@pytest.mark.parametrize(("nation", "role", "marking"), CASES)
def test_write(world, nation, role, marking):
    store, users, _ = world
    user = users[(nation, role)]
    table = detections(1, marking=marking, node=nation, t0=1e5, seed=hash((nation, role)) % 97)
    if nation in parse_marking(marking):
        summary = store.ingest(result(table), user=user, dataset=f"w-{nation}-{role}")
        assert summary.added_detections + summary.duplicates == 1
    else:
        with pytest.raises(AccessDenied, match=r"write .*not-on-release-list"):
            store.ingest(result(table), user=user, dataset=f"w-{nation}-{role}")


@pytest.mark.parametrize(("nation", "role", "marking"), CASES)
def test_release(world, nation, role, marking):
    store, users, datasets = world
    user = users[(nation, role)]
    # releasing to the originator itself leaves the marking as it is: the matrix stays fixed
    request = [originator(marking)]
    if role == "admin" and nation == originator(marking):
        assert store.release(user, datasets[marking], request) == 10
    else:
        with pytest.raises(AccessDenied, match=r"release .*release-needs-originating-admin"):
            store.release(user, datasets[marking], request)


@pytest.mark.parametrize(("nation", "role", "marking"), CASES)
def test_run(world, nation, role, marking):
    store, users, datasets = world
    user = users[(nation, role)]
    run_tracks = tracks(2, marking=marking, node=nation if nation != "FRA" else "USA")
    if nation in parse_marking(marking):
        run_id = store.record_run(user, datasets[marking], run_tracks, config={})
        assert store.run_tracks(user, run_id).num_rows == 2
    else:
        with pytest.raises(AccessDenied, match=r"run .*not-on-release-list"):
            store.record_run(user, datasets[marking], run_tracks, config={})


@pytest.mark.parametrize(("nation", "role"), list(itertools.product(NATIONS, ROLES)))
def test_audit(world, nation, role):
    store, users, _ = world
    user = users[(nation, role)]
    if role == "admin":
        records = store.audit_log(user, limit=1000)
        assert records and {r["nation"] for r in records} == {nation}
    else:
        with pytest.raises(AccessDenied, match=r"audit .*default-deny"):
            store.audit_log(user)


def test_denials_are_audited_with_the_deciding_policy(world):
    store, users, datasets = world
    admin = users[("USA", "admin")]
    with pytest.raises(AccessDenied):
        store.release(users[("KOR", "analyst")], datasets["REL TO JPN, KOR"], ["USA"])
    last = store.audit_log(users[("KOR", "admin")], limit=1)[0]
    assert (last["action"], last["outcome"]) == ("release", "deny")
    assert last["policy"] == "release-needs-originating-admin"
    assert last["user_name"] == "KOR-analyst"
    assert store.verify_audit().ok
    assert admin.nation == "USA"


def test_policy_decisions_are_evaluated_once_per_marking():
    engine = PolicyEngine()
    user = User(1, "u", "JPN", "analyst")
    calls = []
    original = engine._evaluate

    def counting(*args):
        calls.append(len(args[2]))
        return original(*args)

    engine._evaluate = counting
    resources = [Resource(m) for m in MARKINGS] * 1000
    decisions = engine.decide_many(user, "read", resources)
    assert calls == [len(MARKINGS)]
    assert [d.allowed for d in decisions[: len(MARKINGS)]] == [
        "JPN" in parse_marking(m) for m in MARKINGS
    ]
    engine.decide_many(user, "read", resources)
    assert calls == [len(MARKINGS)]


def test_mixed_markings_in_one_ingest_are_denied_as_a_whole(world):
    store, users, _ = world
    user = users[("JPN", "analyst")]
    table = pa.concat_tables(
        [
            detections(2, marking="REL TO JPN", node="JPN", t0=2e5),
            detections(2, marking="REL TO USA", node="USA", t0=3e5),
        ]
    )
    before = store.query_detections(users[("USA", "admin")], limit=100000).num_rows
    with pytest.raises(AccessDenied):
        store.ingest(result(table), user=user, dataset="mixed")
    after = store.query_detections(users[("USA", "admin")], limit=100000).num_rows
    assert before == after
