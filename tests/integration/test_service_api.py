"""The HTTP API (hyperdef.service.create_app) end to end with FastAPI's TestClient: uploads,
queries, runs, audit, access control and the error paths (401, 403, 404, 413, 415, 422)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from hyperdef.core.frames import ecef_to_lla, lla_to_ecef  # noqa: E402
from hyperdef.sensors.detections import concat_detections, make_detections  # noqa: E402
from hyperdef.service import create_app  # noqa: E402
from hyperdef.store import Store  # noqa: E402

EPOCH = datetime(2026, 6, 1, tzinfo=UTC)
T0_S = 3600.0  # first report 01:00:00Z
OCTET = "application/octet-stream"


def detections(node: str, marking: str, lat0_deg: float, lon0_deg: float, *,
               targets: int = 2, seconds: int = 20, sensor: str = "MQ9"):
    """Reports (xyz, 30 m) of ``targets`` aircraft flying east at 250 m/s, 10 km up, one
    per second each, seen from a platform 50 km south; times from EPOCH."""
    tables = []
    t = T0_S + np.arange(seconds, dtype=float)
    sensor_r = lla_to_ecef([math.radians(lat0_deg - 0.45), math.radians(lon0_deg), 15_000.0])
    for k in range(targets):
        lat = math.radians(lat0_deg + 0.2 * k)
        lon = math.radians(lon0_deg) + 250.0 * (t - T0_S) / (6_378_137.0 * math.cos(lat))
        r = lla_to_ecef(np.column_stack([np.full_like(t, lat), lon, np.full_like(t, 10e3)]))
        tables.append(make_detections(
            t=t, t_report=t, sensor_id=f"{sensor}-{node}", node=node, meas_type="xyz", z=r,
            R=np.eye(3) * 30.0**2, sensor_r_ecef_m=sensor_r, sensor_v_ecef_m_s=np.zeros(3),
            snr=np.nan, truth_id=np.full(t.size, k), false_alarm=False, marking=marking))
    return concat_detections(tables)


def klv_bytes(table) -> bytes:
    from hyperdef.io.klv import write_klv

    data, counts = write_klv(table, EPOCH)
    return data


def cot_bytes(table) -> bytes:
    from hyperdef.io.cot import write_cot

    data, counts = write_cot(table, EPOCH)
    return data


@pytest.fixture
def env(tmp_path):
    """A fresh SQLite store, an admin (USA), analysts of USA and JPN, and a client."""
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    admin, admin_key = store.add_user("root", "USA", "admin")
    usa, usa_key = store.add_user("alice", "USA", "analyst", by=admin)
    jpn, jpn_key = store.add_user("kenji", "JPN", "analyst")  # local operator
    client = TestClient(create_app(store, max_upload_bytes=200_000))
    yield {
        "store": store, "client": client,
        "admin": {"X-API-Key": admin_key}, "usa": {"X-API-Key": usa_key},
        "jpn": {"X-API-Key": jpn_key},
    }
    client.close()
    store.close()


def upload(env, who, dataset, data, *, name="a.klv", content_type=OCTET, **params):
    return env["client"].post(f"/datasets/{dataset}/files", headers=env[who],
                              files={"file": (name, data, content_type)}, params=params)


@pytest.fixture
def loaded(env):
    """Two uploads: USA-only reports near 35N 139E, USA+JPN reports near 36N 141E."""
    us_only = detections("USA", "REL TO USA", 35.0, 139.0)
    shared = detections("JPN", "REL TO USA, JPN", 36.0, 141.0, sensor="P1")
    r1 = upload(env, "usa", "pacific", klv_bytes(us_only), name="us.klv")
    r2 = upload(env, "jpn", "pacific", klv_bytes(shared), name="jp.klv")
    assert r1.status_code == 201, r1.text
    assert r2.status_code == 201, r2.text
    env["ingest"] = (r1.json(), r2.json())
    env["rows"] = (us_only.num_rows, shared.num_rows)
    return env


def all_items(env, who, path, **params):
    items, offset = [], 0
    while offset is not None:
        r = env["client"].get(path, headers=env[who], params={**params, "offset": offset})
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        offset = page["next_offset"]
    return items


# ----------------------------------------------------------------------------- auth, errors


def test_missing_or_unknown_key_is_401(env):
    assert env["client"].get("/detections").status_code == 401
    r = env["client"].get("/datasets", headers={"X-API-Key": "not-a-key"})
    assert r.status_code == 401 and "API key" in r.json()["detail"]


def test_openapi_spec_describes_the_endpoints(env):
    spec = env["client"].get("/openapi.json").json()
    for path in ("/datasets/{name}/files", "/detections", "/tracks", "/datasets",
                 "/datasets/{dataset_id}/runs", "/runs/{run_id}/tracks", "/audit"):
        assert path in spec["paths"], path
    assert "DetectionPage" in spec["components"]["schemas"]
    assert "X-API-Key" in str(spec["components"]["securitySchemes"])


def test_upload_summary_and_duplicates(loaded):
    first, second = loaded["ingest"]
    assert first["format"] == "klv" and first["added_detections"] == loaded["rows"][0]
    assert first["duplicates"] == 0 and first["skipped"] == {}
    assert second["dataset_id"] == first["dataset_id"]
    again = upload(loaded, "usa", "pacific",
                   klv_bytes(detections("USA", "REL TO USA", 35.0, 139.0)), name="us.klv")
    assert again.status_code == 201
    assert again.json()["added_detections"] == 0
    assert again.json()["duplicates"] == loaded["rows"][0]


def test_upload_counts_skipped_packets_with_reasons(env):
    data = klv_bytes(detections("USA", "REL TO USA", 35.0, 139.0, targets=1, seconds=5))
    corrupt = data[:-40] + bytes(40)  # spoil the last packet's checksum
    r = upload(env, "usa", "d", corrupt, format="klv")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["added_detections"] == 4 and sum(body["skipped"].values()) >= 1


def test_upload_too_large_is_413(env):
    r = upload(env, "usa", "d", bytes(300_000))  # body over the limit: refused unread
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    r = upload(env, "usa", "d", bytes(200_001))  # file over the limit, body within slack
    assert r.status_code == 413 and "a.klv" in r.json()["detail"]

    def chunked():  # no Content-Length: counted as it streams in
        yield (b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a.klv"\r\n'
               b"Content-Type: application/octet-stream\r\n\r\n")
        for _ in range(300):
            yield bytes(1000)
        yield b"\r\n--xx--\r\n"

    r = env["client"].post("/datasets/d/files", content=chunked(), headers={
        **env["usa"], "Content-Type": "multipart/form-data; boundary=xx"})
    assert r.status_code == 413 and "200000 bytes" in r.json()["detail"]


def test_upload_content_type_is_checked_415(env):
    data = klv_bytes(detections("USA", "REL TO USA", 35.0, 139.0, targets=1, seconds=3))
    r = upload(env, "usa", "d", data, content_type="text/plain")
    assert r.status_code == 415
    r = upload(env, "usa", "d", data, content_type="application/xml")  # KLV is binary
    assert r.status_code == 415 and "klv" in r.json()["detail"]


def test_upload_cot_as_xml(env):
    from hyperdef.tracking.tracker import run_tracker

    table = detections("USA", "REL TO USA, JPN", 35.0, 139.0)
    tracks = run_tracker(table).table
    r = upload(env, "usa", "cot", cot_bytes(tracks), name="t.xml",
               content_type="application/xml")
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "cot" and r.json()["added_tracks"] > 0
    items = all_items(env, "jpn", "/tracks")
    assert len(items) == r.json()["added_tracks"]
    assert all(i["marking"] == "REL TO USA, JPN" for i in items)


def test_upload_gmti_and_asterix_detected_by_content(env):
    from hyperdef.io.asterix import write_asterix
    from hyperdef.io.gmti import write_gmti
    from hyperdef.tracking.tracker import run_tracker

    table = detections("USA", "REL TO USA, JPN", 35.0, 139.0, targets=1, seconds=5)
    r = upload(env, "usa", "g", write_gmti(table, EPOCH)[0], name="a.4607")
    assert r.status_code == 422 and "marking" in r.json()["detail"]  # 4607 carries none
    r = upload(env, "usa", "g", write_gmti(table, EPOCH)[0], name="a.4607",
               marking="REL TO USA, JPN")
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "gmti" and r.json()["added_detections"] == 5
    tracks = run_tracker(detections("USA", "REL TO USA", 35.0, 139.0)).table
    data = write_asterix(tracks, EPOCH)[0]
    r = upload(env, "usa", "a", data, name="t.ast")  # ASTERIX carries no marking
    assert r.status_code == 422 and "marking" in r.json()["detail"]
    r = upload(env, "usa", "a", data, name="t.ast", marking="REL TO USA", node="USA")
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "asterix" and r.json()["added_tracks"] > 0
    assert all_items(env, "jpn", "/tracks") == []


def test_bad_marking_bad_params_are_422(env):
    data = klv_bytes(detections("USA", "REL TO USA", 35.0, 139.0, targets=1, seconds=3))
    r = upload(env, "usa", "d", data, marking="RELEASE TO ALL")
    assert r.status_code == 422 and "marking" in r.json()["detail"]
    for params in ({"t0": "yesterday"}, {"bbox": "1,2,3"}, {"bbox": "50,40,0,1"},
                   {"limit": 10_001}, {"limit": 0}, {"offset": -1}):
        r = env["client"].get("/detections", headers=env["usa"], params=params)
        assert r.status_code == 422, params


# ----------------------------------------------------------------------------- queries


def test_pagination_walks_every_row_once(loaded):
    n = sum(loaded["rows"])
    r = loaded["client"].get("/detections", headers=loaded["admin"], params={"limit": 30})
    page = r.json()
    assert len(page["items"]) == 30 and page["next_offset"] == 30
    items = all_items(loaded, "admin", "/detections", limit=30)
    assert len(items) == n
    assert len({i["record_id"] for i in items}) == n
    last = loaded["client"].get("/detections", headers=loaded["admin"],
                                params={"limit": 30, "offset": n - 5}).json()
    assert len(last["items"]) == 5 and last["next_offset"] is None


def test_time_window_iso_and_unix_agree(loaded):
    start = EPOCH.timestamp() + T0_S
    iso = {"t0": "2026-06-01T01:00:05Z", "t1": "2026-06-01T01:00:09.5Z"}
    unix = {"t0": str(start + 5), "t1": str(start + 9.5)}
    a = all_items(loaded, "admin", "/detections", **iso)
    b = all_items(loaded, "admin", "/detections", **unix)
    assert len(a) == len(b) == 5 * 4  # 5 s x 2 targets x 2 uploads
    assert all(start + 5 - 1e-3 <= i["t"] <= start + 9.5 for i in a)


def test_area_filter(loaded):
    items = all_items(loaded, "admin", "/detections", bbox="34.9,35.1,138.9,139.5")
    assert len(items) == 20  # the first target of the USA upload only
    assert {i["sensor_id"] for i in items} == {"MQ9-USA"}
    lla = ecef_to_lla(np.array([i["z"] for i in items]))
    assert np.all(np.abs(np.degrees(lla[:, 0]) - 35.0) < 0.01)  # target 0 flies at 35N


def test_source_and_dataset_filters(loaded):
    ds = loaded["ingest"][0]["dataset_id"]
    items = all_items(loaded, "admin", "/detections", source="jp.klv", dataset_id=ds)
    assert len(items) == loaded["rows"][1]
    assert {i["node"] for i in items} == {"JPN"}


def test_visibility_across_two_nations(loaded):
    usa = all_items(loaded, "usa", "/detections")
    jpn = all_items(loaded, "jpn", "/detections")
    assert len(usa) == sum(loaded["rows"])
    assert len(jpn) == loaded["rows"][1]
    assert all("JPN" in i["marking"] for i in jpn)
    names = [d["name"] for d in loaded["client"].get("/datasets",
                                                      headers=loaded["jpn"]).json()]
    assert names == ["pacific"]
    japan_only = klv_bytes(detections("JPN", "REL TO JPN", 36.0, 141.0, targets=1, seconds=3))
    r = upload(loaded, "usa", "pacific", japan_only)  # not releasable to the uploader
    assert r.status_code == 403 and "denied" in r.json()["detail"]


# ----------------------------------------------------------------------------- runs, audit


def test_run_on_dataset_and_fetch_its_tracks(loaded):
    ds = loaded["ingest"][0]["dataset_id"]
    r = loaded["client"].post(f"/datasets/{ds}/runs", headers=loaded["jpn"],
                              json={"model": "cv"})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["detections"] == loaded["rows"][1]  # JPN sees only the shared upload
    assert run["tracks_confirmed"] == 2 and run["node"] == "JPN"
    items = all_items(loaded, "jpn", f"/runs/{run['run_id']}/tracks", limit=25)
    assert len(items) == run["track_rows"]
    start = EPOCH.timestamp() + T0_S
    assert min(i["t"] for i in items) == pytest.approx(start, abs=1e-3)
    assert {i["marking"] for i in items} == {"REL TO USA, JPN"}


def test_run_bad_settings_are_422(loaded):
    ds = loaded["ingest"][0]["dataset_id"]
    r = loaded["client"].post(f"/datasets/{ds}/runs", headers=loaded["usa"],
                              json={"model": "warp"})
    assert r.status_code == 422
    r = loaded["client"].post(f"/datasets/{ds}/runs", headers=loaded["usa"],
                              json={"settings": {"no_such": 1}})
    assert r.status_code == 422 and "no_such" in r.json()["detail"]


def test_unknown_dataset_or_run_is_404(loaded):
    client, usa = loaded["client"], loaded["usa"]
    r = client.post("/datasets/987654/runs", headers=usa, json={})
    assert r.status_code == 404 and "dataset_id" in r.json()["detail"]
    r = client.get("/runs/987654/tracks", headers=usa)
    assert r.status_code == 404 and "run_id" in r.json()["detail"]
    assert "404" in client.get("/openapi.json").json()["paths"]["/runs/{run_id}/tracks"][
        "get"]["responses"]


def test_audit_for_admin_only(loaded):
    r = loaded["client"].get("/audit", headers=loaded["usa"])
    assert r.status_code == 403
    r = loaded["client"].get("/audit", headers=loaded["admin"], params={"limit": 500})
    assert r.status_code == 200
    records = r.json()
    assert len(records) >= 2
    assert any(rec.get("client") == "testclient" for rec in records)
    ok = loaded["client"].get("/audit/verify", headers=loaded["admin"]).json()
    assert ok["ok"] is True
