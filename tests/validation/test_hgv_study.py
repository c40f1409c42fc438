"""HGV accuracy study (issue "Coalition tracking", part 7): national vs fused pictures.

A weaving HGV (38N 118E to 26.2N 127.7E, 40 deg / 150 s bank weave) past the two S-band
ships, the LEO IR layer and the MQ-9 of ``scenarios/sensors_example.yaml`` (all sensors
observe with seed 0; the X-band ground radar's reports are dropped, as the issue's
sensor list has no X-band radar). Pictures: JPN's own sensors, USA's own sensors, and
central fusion at USA of every released report; all IMM(CV, glide) EKF with the library
defaults. The study itself, its definitions (straight segments, the glide-model PCRLB,
the update rows scored by NEES) and the report live in
``benchmarks/study_hgv_accuracy.py``; this test runs it once and asserts its numbers.

Measured (seed 0): first firm track JPN 446 s, USA 542 s, fused 394 s; position / velocity
RMSE over the common tracked interval (542-710 s) JPN 288.4 m / 52.9 m/s, USA 69.7 m /
32.9 m/s, fused 51.5 m / 21.2 m/s; NEES of update rows inside the 95 % band JPN 75.5 %,
USA 74.2 %, fused 86.5 %; no track break during the weave in any picture; on straight
segments RMSE / PCRLB JPN 307.1 / 209.5 m = 1.47, USA 52.5 / 45.2 m = 1.16, fused
58.0 / 49.6 m = 1.17.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

_SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "study_hgv_accuracy.py"


def _load_study_module():
    spec = importlib.util.spec_from_file_location("study_hgv_accuracy", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def study():
    return _load_study_module().run_study(seed=0)


def test_glide_parameters_reproduce_the_truth_acceleration(study):
    """The bound's truth states are exact: fitted (ln beta, L/D, bank) give the truth's
    acceleration to 3.7e-14 m/s^2 (max over the reports from the pull-out on)."""
    assert study.fit_residual_m_s2 < 1e-6, study.fit_residual_m_s2


def test_fused_picture_is_firm_first(study):
    """First firm track: fused 394 s, JPN 446 s, USA 542 s."""
    p = study.pictures
    fused = p["fused"].t_firm_s
    assert fused < p["JPN"].t_firm_s and fused < p["USA"].t_firm_s, (
        f"fused firm at {fused} s, JPN {p['JPN'].t_firm_s} s, USA {p['USA'].t_firm_s} s"
    )
    assert fused - p["fused"].t_first_report_s < 10.0 or fused < 400.0


def test_fused_picture_is_most_accurate(study):
    """Common interval 542-710 s: position RMSE fused 51.5 m, USA 69.7 m, JPN 288.4 m;
    velocity RMSE fused 21.2 m/s, USA 32.9 m/s, JPN 52.9 m/s."""
    p = study.pictures
    for nation in ("JPN", "USA"):
        assert p["fused"].rmse_pos_m < p[nation].rmse_pos_m, (
            f"fused position RMSE {p['fused'].rmse_pos_m:.1f} m not below {nation} "
            f"{p[nation].rmse_pos_m:.1f} m"
        )
        assert p["fused"].rmse_vel_m_s < p[nation].rmse_vel_m_s, (
            f"fused velocity RMSE {p['fused'].rmse_vel_m_s:.1f} m/s not below {nation} "
            f"{p[nation].rmse_vel_m_s:.1f} m/s"
        )
    assert p["fused"].rmse_pos_m < 60.0 and p["fused"].rmse_vel_m_s < 25.0


@pytest.mark.parametrize("picture", ["JPN", "USA", "fused"])
def test_no_track_break_during_the_weave(study, picture):
    """Breaks during the weave (176-621 s): 0 in every picture."""
    assert study.pictures[picture].breaks_weave == 0


@pytest.mark.parametrize("picture", ["JPN", "USA", "fused"])
def test_rmse_within_1p5_pcrlb_on_straight_segments(study, picture):
    """RMSE / PCRLB (glide model) on straight segments (|a_lat| < 2 m/s^2 in the weave):
    JPN 307.1 / 209.5 m = 1.47, USA 52.5 / 45.2 m = 1.16, fused 58.0 / 49.6 m = 1.17.
    The JPN margin is thin (one ship, the ratio is dominated by the track's first minute)."""
    p = study.pictures[picture]
    assert np.isfinite(p.ratio_straight)
    assert p.ratio_straight >= 1.0, f"{picture}: RMSE below the bound, {p.ratio_straight:.2f}"
    assert p.ratio_straight <= 1.5, (
        f"{picture}: straight-segment RMSE {p.rmse_straight_m:.1f} m is "
        f"{p.ratio_straight:.2f} x the PCRLB {p.bound_straight_m:.1f} m (target 1.5)"
    )


@pytest.mark.parametrize("picture", ["JPN", "USA", "fused"])
def test_nees_fraction_at_least_70_percent(study, picture):
    """What holds of consistency: update-row NEES inside the 95 % band JPN 75.5 %,
    USA 74.2 %, fused 86.5 %."""
    assert study.pictures[picture].nees_fraction >= 0.70


@pytest.mark.xfail(
    strict=True,
    reason="issue target not met: IMM(CV, glide) NEES inside the 95 % band on 86.5 % "
    "(fused, 319 updates), 75.5 % (JPN, 110) and 74.2 % (USA, 178) of updates, "
    "target >= 90 %",
)
@pytest.mark.parametrize("picture", ["JPN", "USA", "fused"])
def test_nees_inside_band_for_90_percent_of_updates(study, picture):
    """Issue target: NEES of the IMM inside the 95 % chi-square band for >= 90 % of
    updates. Measured 75.5 % (JPN), 74.2 % (USA), 86.5 % (fused): not met."""
    p = study.pictures[picture]
    assert p.nees_fraction >= 0.90, f"{picture}: {100 * p.nees_fraction:.1f} % inside"
