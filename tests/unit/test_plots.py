"""Unit tests of :mod:`hyperdef.report.plots`."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from hyperdef.errors import InputError
from hyperdef.report import plot_trajectory
from hyperdef.report.plots import _lat_label, _lon_label, _unwrapped_longitudes
from hyperdef.threats import fly

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KAUAI = np.radians([22.0, -159.8])
KWAJALEIN = np.radians([9.4, 167.5])


@pytest.fixture(scope="module")
def batch():
    """Two glide vehicles Kauai -> Kwajalein (across the date line), plain and weaving."""
    # aim given per vehicle: fly() takes its batch size from launch/aim, not from maneuver
    return fly("hgv", KAUAI, np.stack([KWAJALEIN, KWAJALEIN]), maneuver=["none", "weave"])


def test_batch_plot_writes_a_png(batch, tmp_path):
    target = tmp_path / "batch.png"
    written = plot_trajectory(batch, target, title="two gliders")
    assert written == target
    assert target.read_bytes()[:8] == PNG_SIGNATURE
    assert target.stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["batch.png"], "no temporary file left"


def test_missing_directory_is_a_clear_error_and_leaves_nothing(batch, tmp_path):
    with pytest.raises(InputError, match="directory .* does not exist"):
        plot_trajectory(batch, tmp_path / "missing" / "batch.png")
    assert list(tmp_path.iterdir()) == []


def test_unsupported_suffix_is_refused(batch, tmp_path):
    with pytest.raises(InputError, match=r"must end in \.png"):
        plot_trajectory(batch, tmp_path / "batch.jpg")
    assert list(tmp_path.iterdir()) == []


def test_failure_while_saving_keeps_the_old_file_and_no_temporary(batch, tmp_path, monkeypatch):
    target = tmp_path / "batch.png"
    target.write_bytes(b"previous")

    def broken_savefig(self, fname, **kwargs):
        with open(fname, "wb") as fh:
            fh.write(PNG_SIGNATURE)  # half a file, then a failure
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_trajectory(batch, target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["batch.png"]


def test_ground_track_is_continuous_across_the_date_line(batch):
    lon_deg, launch_deg, aim_deg = _unwrapped_longitudes(batch)
    assert launch_deg == pytest.approx([-159.8, -159.8])
    # Kwajalein (167.5 E) lies west of Kauai across the date line: -192.5 on the track's branch
    assert aim_deg == pytest.approx([167.5 - 360.0] * 2)
    for i in range(batch.n_objects):
        track = lon_deg[batch.rows(i)]
        assert np.max(np.abs(np.diff(track))) < 1.0, "a jump of 360 deg in the track"
        assert track[0] == pytest.approx(-159.8, abs=1e-6)
        assert track[-1] == pytest.approx(aim_deg[i], abs=0.05)


def test_tick_labels_read_east_west_north_south():
    assert _lon_label(-192.5) == "167.5°E"
    assert _lon_label(-159.8) == "159.8°W"
    assert _lon_label(180.0) == "180°"
    assert _lon_label(-180.0) == "180°"
    assert _lat_label(9.4) == "9.4°N"
    assert _lat_label(-22.0) == "22°S"
    assert _lat_label(0.0) == "0°"
