"""Format registry: sniffing, read_file and write_file (hyperdef.io.formats)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from hyperdef.core.frames import lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.io.asterix import write_asterix
from hyperdef.io.cot import write_cot
from hyperdef.io.formats import FORMATS, KLV_UAS_LS_KEY, detect_format, read_file, write_file
from hyperdef.sensors.detections import make_detections

EPOCH = datetime(2026, 11, 28, tzinfo=UTC)
SITE_LLA = np.array([np.radians(35.0), np.radians(139.0), 50.0])
MARK = "REL TO USA, JPN"
HAVE_KLV_GMTI = all(
    importlib.util.find_spec(f"hyperdef.io.{name}") is not None for name in ("klv", "gmti")
)


def detections(meas_type: str = "rae") -> pa.Table:
    if meas_type == "rae":
        z = np.array([[1e5, 0.3, 0.05], [2e5, 2.0, 0.02]])
        R = np.diag([100.0, 1e-6, 1e-6])
    else:
        z = lla_to_ecef(np.array([[0.611, 2.43, 1e4], [0.612, 2.42, 1.5e4]]))
        R = np.eye(3) * 100.0
    return make_detections(
        t=np.array([10.0, 11.0]), t_report=np.array([10.0, 11.0]), sensor_id="r1", node="JPN",
        meas_type=meas_type, z=z, R=R, sensor_r_ecef_m=lla_to_ecef(SITE_LLA),
        sensor_v_ecef_m_s=np.zeros(3), snr=np.nan, truth_id=np.array([0, 1]),
        false_alarm=False, marking=MARK,
    )


def test_formats_tuple():
    assert FORMATS == ("klv", "gmti", "cot", "asterix")


def test_detects_cot_and_asterix_from_their_writers():
    cot, _ = write_cot(detections(), EPOCH)
    assert detect_format(cot) == "cot"
    assert detect_format(b"\xef\xbb\xbf  \n" + cot.split(b"\n", 1)[1]) == "cot"
    plots, _ = write_asterix(detections(), EPOCH)
    assert detect_format(plots) == "asterix"
    assert detect_format(plots + plots[:5]) == "asterix"  # a truncated last block


def test_detects_klv_and_gmti_headers():
    assert detect_format(KLV_UAS_LS_KEY + b"\x81\x90" + bytes(10)) == "klv"
    header = b"31" + (32).to_bytes(4, "big") + b"US" + bytes(24)
    assert detect_format(header) == "gmti"
    assert detect_format(b"30" + (1000).to_bytes(4, "big") + bytes(30)) == "gmti"


@pytest.mark.skipif(not HAVE_KLV_GMTI, reason="klv/gmti modules not present")
def test_detects_klv_and_gmti_from_their_writers():
    from hyperdef.io.gmti import write_gmti
    from hyperdef.io.klv import write_klv

    assert detect_format(write_klv(detections("xyz"), EPOCH)[0]) == "klv"
    assert detect_format(write_gmti(detections("xyz"), EPOCH)[0]) == "gmti"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world",
        b"<?xml version='1.0'?><root/>",
        bytes([48, 0, 3]),  # an empty block
        bytes([48, 0, 200, 1, 2]),  # a first block longer than the data
        bytes([62, 0, 5, 1, 2, 48, 0, 1]),  # a second block with length < 3
        bytes([34, 0, 5, 1, 2]),  # a category not read here
        b"31" + (8).to_bytes(4, "big"),  # GMTI packet smaller than its header
        KLV_UAS_LS_KEY[:15],
    ],
)
def test_unrecognised_data_raise_listing_the_formats(data):
    with pytest.raises(InputError, match="klv, gmti, cot, asterix"):
        detect_format(data)


def test_detect_format_rejects_non_bytes():
    with pytest.raises(InputError, match="^data"):
        detect_format("<event/>")


def test_read_file_sniffs_and_dispatches(tmp_path):
    cot_path, ast_path = tmp_path / "a.cot", tmp_path / "a.ast"
    cot_path.write_bytes(write_cot(detections(), EPOCH)[0])
    ast_path.write_bytes(write_asterix(detections(), EPOCH, sac=3, sic=4)[0])
    cot = read_file(cot_path, epoch=EPOCH)
    assert cot.format == "cot" and cot.tracks.num_rows == 2
    sites = {(3, 4): (35.0, 139.0, 50.0)}
    ast = read_file(ast_path, marking=MARK, node="JPN", epoch=EPOCH, sites=sites)
    assert ast.format == "asterix" and ast.detections.num_rows == 2
    forced = read_file(str(cot_path), format="cot", epoch=EPOCH, sites=sites)
    assert forced.tracks.equals(cot.tracks)


def test_read_file_argument_errors(tmp_path):
    with pytest.raises(InputError, match="^format: 'xml' is not one of auto, klv, gmti"):
        read_file(tmp_path / "x", format="xml")
    with pytest.raises(InputError, match="^path"):
        read_file(tmp_path / "missing.cot")
    (tmp_path / "junk").write_bytes(b"junk")
    with pytest.raises(InputError, match="klv, gmti, cot, asterix"):
        read_file(tmp_path / "junk")
    (tmp_path / "a.ast").write_bytes(write_asterix(detections(), EPOCH)[0])
    with pytest.raises(InputError, match="^marking"):
        read_file(tmp_path / "a.ast", node="JPN")


def test_write_file_writes_what_the_writer_makes(tmp_path):
    target = tmp_path / "out.cot"
    counts = write_file(detections(), target, "cot", EPOCH)
    assert counts == {"written": 2}
    assert target.read_bytes() == write_cot(detections(), EPOCH)[0]
    assert [p.name for p in tmp_path.iterdir()] == ["out.cot"]
    counts = write_file(detections(), tmp_path / "out.ast", "asterix", EPOCH)
    assert counts == {"written": 2}
    back = read_file(tmp_path / "out.ast", marking=MARK, node="JPN", epoch=EPOCH,
                     sites={(0, 1): (35.0, 139.0, 50.0)})
    assert back.detections.num_rows == 2


def test_write_file_leaves_nothing_half_written_on_error(tmp_path):
    target = tmp_path / "out.cot"
    target.write_bytes(b"previous")
    with pytest.raises(InputError, match="^epoch"):
        write_file(detections(), target, "cot", datetime(2026, 1, 1))
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.cot"]
    with pytest.raises(InputError, match="^format: 'auto' is not one of klv, gmti, cot, asterix"):
        write_file(detections(), tmp_path / "x", "auto", EPOCH)
    with pytest.raises(InputError, match="^path"):
        write_file(detections(), tmp_path / "no" / "x.cot", "cot", EPOCH)
    with pytest.raises(InputError, match="^path"):
        write_file(detections(), tmp_path, "cot", EPOCH)
    assert [p.name for p in tmp_path.iterdir()] == ["out.cot"]


@pytest.mark.skipif(not HAVE_KLV_GMTI, reason="klv/gmti modules not present")
@pytest.mark.parametrize("name", ["klv", "gmti"])
def test_klv_and_gmti_round_trip_through_the_registry(tmp_path, name):
    target = tmp_path / f"out.{name}"
    write_file(detections("xyz"), target, name, EPOCH)
    result = read_file(target, marking=MARK, node="JPN", epoch=EPOCH)
    assert result.format == name and result.detections.num_rows == 2
