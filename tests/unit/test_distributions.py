"""Monte Carlo distributions in scenario documents (hyperdef.distributions) and their
per-run draws in campaigns.

The campaign tests use ``scenarios/single_hgv_mc.yaml`` reduced as in
``tests/integration/test_campaign.py`` (one radar, one node, a non-weaving glider ~850 km
out, one interceptor), keeping its launch-time distribution and adding one on a list
element (``from[0]``) and one in a nested mapping (the radar's latitude).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from hyperdef.distributions import (
    check_distributions,
    has_distributions,
    load_scenario_with_distributions,
    nominal,
    sample,
    sample_with_draws,
    scenario_with_distributions,
)
from hyperdef.errors import ScenarioError
from hyperdef.montecarlo import TIMING_COLUMNS, _draw_scenario, campaign_seeds, run_campaign
from hyperdef.scenario import parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
MC = SCENARIOS / "single_hgv_mc.yaml"

DOCUMENT = {
    "name": "doc",
    "threats": [
        {
            "from": [{"uniform": [31.0, 33.0]}, 122.0],
            "launch_time_s": {"normal": {"mean": 10.0, "sd": 2.0, "min": 0.0}},
            "maneuver": {"choice": ["none", "weave", "skip"]},
        },
        {"from": [1.0, 2.0], "launch_time_s": 5},
    ],
    "site": {"lat_deg": 26.4, "lon_deg": {"normal": {"mean": 127.8, "sd": 0.1}}},
    "tracker": {"model": "cv", "imm_models": ["cv", "glide"]},
    "count": {"choice": [1, {"uniform": [2, 4]}]},
}


def test_nominal_is_mean_midpoint_and_first_choice():
    doc = nominal(DOCUMENT)
    assert doc["threats"][0] == {"from": [32.0, 122.0], "launch_time_s": 10.0, "maneuver": "none"}
    assert doc["threats"][1] == DOCUMENT["threats"][1]
    assert doc["site"] == {"lat_deg": 26.4, "lon_deg": 127.8}
    assert doc["tracker"] == DOCUMENT["tracker"]
    assert doc["count"] == 1
    assert has_distributions(DOCUMENT) and not has_distributions(doc)
    assert nominal({"x": {"normal": {"mean": 5.0, "sd": 1.0, "max": 3.0}}}) == {"x": 3.0}


def test_sample_replaces_every_distribution_and_leaves_the_rest():
    original = copy.deepcopy(DOCUMENT)
    doc, draws = sample_with_draws(DOCUMENT, np.random.default_rng(1))
    assert DOCUMENT == original, "sample changed its input"
    assert not has_distributions(doc)
    assert list(draws)[:4] == [
        "threats[0].from[0]",
        "threats[0].launch_time_s",
        "threats[0].maneuver",
        "site.lon_deg",
    ]
    t0 = doc["threats"][0]
    assert 31.0 <= t0["from"][0] < 33.0 and t0["from"][1] == 122.0
    assert t0["launch_time_s"] >= 0.0 and isinstance(t0["launch_time_s"], float)
    assert t0["maneuver"] in ("none", "weave", "skip")
    assert draws["threats[0].from[0]"] == t0["from"][0]
    assert doc["threats"][1] == original["threats"][1]
    assert doc["site"]["lat_deg"] == 26.4
    assert doc["tracker"] == original["tracker"]
    assert doc["count"] == 1 or 2.0 <= doc["count"] < 4.0


def test_a_distribution_inside_a_chosen_value_is_drawn_too():
    seen = set()
    for seed in range(40):
        doc, draws = sample_with_draws(
            {"n": {"choice": [1, {"uniform": [2, 4]}]}}, np.random.default_rng(seed)
        )
        if doc["n"] == 1:
            seen.add("first")
            assert draws == {"n": 1}
        else:
            seen.add("second")
            assert 2.0 <= doc["n"] < 4.0
            assert draws == {"n.choice[1]": doc["n"], "n": doc["n"]}
    assert seen == {"first", "second"}


def test_same_seed_same_draws_other_seed_other_draws():
    first = sample(DOCUMENT, np.random.default_rng(7))
    assert sample(DOCUMENT, np.random.default_rng(7)) == first
    other = sample(DOCUMENT, np.random.default_rng(8))
    assert other["threats"][0]["from"][0] != first["threats"][0]["from"][0]
    assert other["site"]["lon_deg"] != first["site"]["lon_deg"]


def test_ordinary_mappings_and_values_are_untouched():
    doc = {
        "site": {"lat_deg": 1.0, "lon_deg": 2.0},
        "tracker": {"model": "imm", "imm_models": ["cv", "glide"]},
        "options": {"normalize": True, "uniformity": [5, 1], "choices": []},
        "flag": True,
        "none": None,
    }
    assert not has_distributions(doc)
    check_distributions(doc, "f.yaml")
    assert nominal(doc) == doc
    assert sample(doc, np.random.default_rng(0)) == doc


N = 10_000


def test_normal_statistics():
    mean, sd = 27.6, 0.2
    draws = np.array(sample([{"normal": {"mean": mean, "sd": sd}}] * N, np.random.default_rng(3)))
    se = sd / math.sqrt(N)
    assert abs(draws.mean() - mean) < 4 * se, f"mean {draws.mean()} vs {mean} (se {se})"
    # the sample sd: its standard error is about sd / sqrt(2 N)
    assert abs(draws.std(ddof=1) - sd) < 4 * sd / math.sqrt(2 * N)


def test_clipped_normal_stays_in_bounds():
    spec = {"normal": {"mean": 0.0, "sd": 1.0, "min": -0.5, "max": 0.5}}
    draws = np.array(sample([spec] * 2000, np.random.default_rng(4)))
    assert draws.min() == -0.5 and draws.max() == 0.5


def test_uniform_statistics():
    low, high = 0.0, 60.0
    draws = np.array(sample([{"uniform": [low, high]}] * N, np.random.default_rng(5)))
    assert draws.min() >= low and draws.max() < high
    se = (high - low) / math.sqrt(12 * N)
    assert abs(draws.mean() - 30.0) < 4 * se, f"mean {draws.mean()} vs 30 (se {se})"


def test_choice_statistics():
    options = ["none", "weave", "skip"]
    draws = sample([{"choice": options}] * N, np.random.default_rng(6))
    p = 1 / 3
    se = math.sqrt(p * (1 - p) / N)
    for option in options:
        share = draws.count(option) / N
        assert abs(share - p) < 4 * se, f"{option}: share {share} vs {p} (se {se})"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"normal": {"mean": 1.0}}, "normal needs mean and sd >= 0"),
        ({"normal": {"mean": 1.0, "sd": -1.0}}, "normal needs mean and sd >= 0"),
        ({"normal": {"mean": "a", "sd": 1.0}}, "normal needs mean and sd >= 0"),
        ({"normal": {"mean": 1.0, "sd": 1.0, "sigma": 2}}, "normal: unknown key 'sigma'"),
        ({"normal": {"mean": 1.0, "sd": 1.0, "min": 2, "max": 1}}, "normal has min 2 > max 1"),
        ({"normal": [1.0, 2.0]}, "normal needs a mapping"),
        ({"uniform": [5, 1]}, r"uniform: \[5, 1\] has low > high"),
        ({"uniform": [1]}, r"uniform needs \[low, high\]"),
        ({"uniform": [0, float("inf")]}, r"uniform needs \[low, high\]"),
        ({"uniform": [True, 2]}, r"uniform needs \[low, high\]"),
        ({"choice": []}, "choice needs a non-empty list"),
        ({"choice": "weave"}, "choice needs a non-empty list"),
        ({"uniform": [0, 1], "sd": 2}, "a distribution is a mapping with one key"),
    ],
)
def test_bad_distributions_are_named_by_path(value, message):
    doc = {"threats": [{"launch_time_s": 0.0}, {"launch_time_s": value}]}
    pattern = rf"^f\.yaml: threats\[1\]\.launch_time_s: {message}"
    with pytest.raises(ScenarioError, match=pattern):
        check_distributions(doc, "f.yaml")
    with pytest.raises(ScenarioError, match=r"^threats\[1\]\.launch_time_s: "):
        sample(doc, np.random.default_rng(0))


def test_bad_distribution_in_a_list_element_and_in_a_choice():
    with pytest.raises(ScenarioError, match=r"^threats\[0\]\.from\[1\]: uniform"):
        check_distributions({"threats": [{"from": [1.0, {"uniform": [2, 1]}]}]})
    with pytest.raises(ScenarioError, match=r"^x\.choice\[1\]: choice needs"):
        check_distributions({"x": {"choice": [1, {"choice": []}]}})


# --------------------------------------------------------------------------- loading
def test_load_keeps_the_distributions_and_builds_the_nominal_scenario():
    scenario = load_scenario_with_distributions(MC)
    threat = scenario.threats[0]
    assert (threat.launch_time_s, threat.maneuver) == (30.0, "none")
    ship = next(s for s in scenario.sensors if s.reporting.sensor_id == "ddg-east-china-sea")
    assert math.degrees(ship.platform.lat_rad) == pytest.approx(27.6)
    assert scenario.data == yaml.safe_load(MC.read_text())
    assert scenario.data["threats"][0]["maneuver"] == {"choice": ["none", "weave"]}
    assert has_distributions(scenario.data)


def test_load_without_distributions_is_parse_scenario(tmp_path):
    data = nominal(yaml.safe_load(MC.read_text()))
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(data))
    loaded = load_scenario_with_distributions(path)
    assert loaded == parse_scenario(data, "plain.yaml")
    assert loaded.data == data


def test_load_rejects_a_value_that_could_be_drawn(tmp_path):
    data = yaml.safe_load(MC.read_text())
    data["threats"][0]["maneuver"] = {"choice": ["none", "wobble"]}
    path = tmp_path / "mc.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match=r"maneuver.*with threats\[0\]\.maneuver = 'wobble'"):
        load_scenario_with_distributions(path)
    data = yaml.safe_load(MC.read_text())
    data["sensors"][1]["site"]["lat_deg"] = {"uniform": [80.0, 95.0]}
    with pytest.raises(ScenarioError, match=r"sensors\[1\]\.site\.lat_deg = 95\.0"):
        scenario_with_distributions(data, "mc.yaml")


def test_load_file_errors(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario_with_distributions(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML at line"):
        load_scenario_with_distributions(bad)
    bad.write_text(yaml.safe_dump({"threats": [{"launch_time_s": {"uniform": [5, 1]}}]}))
    with pytest.raises(ScenarioError, match=r"^bad\.yaml: threats\[0\]\.launch_time_s: uniform"):
        load_scenario_with_distributions(bad)


# --------------------------------------------------------------------------- campaigns
RUNS = 2
SEED = 11


def reduced_mc_data() -> dict:
    data = copy.deepcopy(yaml.safe_load(MC.read_text()))
    data.pop("links", None)  # one node: no data links
    data["sensors"] = data["sensors"][:1]
    data["sensors"][0]["releasable_to"] = []
    data["sensors"][0]["site"]["lat_deg"] = {"normal": {"mean": 26.4, "sd": 0.05}}
    data["nodes"] = [{"name": "USA", "tracker": {"model": "cv"}}]
    data["batteries"][0].update(node="USA", inventory=1)
    data["threats"][0].update({"from": [{"uniform": [31.9, 32.1]}, 122.0], "maneuver": "none"})
    return data


@pytest.fixture(scope="module")
def mc_scenario():
    return scenario_with_distributions(reduced_mc_data(), "reduced_single_hgv_mc")


def test_each_run_draws_its_scenario_from_its_own_seed(mc_scenario):
    seed = campaign_seeds(SEED, 1)[0]
    drawn, sim_seed, text = _draw_scenario(mc_scenario, seed)
    draws = json.loads(text)
    assert list(draws) == [
        "threats[0].from[0]",
        "threats[0].launch_time_s",
        "sensors[0].site.lat_deg",
    ]
    assert drawn.threats[0].launch_time_s == draws["threats[0].launch_time_s"]
    assert drawn.threats[0].from_[0] == draws["threats[0].from[0]"]
    assert math.degrees(drawn.sensors[0].platform.lat_rad) == pytest.approx(
        draws["sensors[0].site.lat_deg"]
    )
    assert sim_seed != seed
    assert _draw_scenario(mc_scenario, seed)[1:] == (sim_seed, text)
    # without distributions: the scenario and seed as they are (the old behaviour)
    plain = parse_scenario(nominal(reduced_mc_data()), "plain")
    assert _draw_scenario(plain, seed) == (plain, seed, None)


def test_campaign_with_distributions_is_the_same_for_any_worker_count(mc_scenario):
    one = run_campaign(mc_scenario, RUNS, seed=SEED, workers=1)
    two = run_campaign(mc_scenario, RUNS, seed=SEED, workers=2)
    assert (one.backend, two.backend) == ("inprocess", "processes")
    assert one.table.column("status").to_pylist() == ["ok"] * RUNS, one.table.to_pylist()
    outcomes = [r.table.drop(list(TIMING_COLUMNS)) for r in (one, two)]
    assert outcomes[0].equals(outcomes[1]), (
        f"workers=2 differs from workers=1:\n{outcomes[1].to_pylist()}\n{outcomes[0].to_pylist()}"
    )
    draws = [json.loads(text) for text in one.table.column("draws").to_pylist()]
    assert draws[0].keys() == draws[1].keys()
    for key in draws[0]:
        assert draws[0][key] != draws[1][key], f"{key}: both runs drew {draws[0][key]}"
    assert 0.0 <= draws[0]["threats[0].launch_time_s"] < 60.0
    assert one.table.column("seed").to_pylist() == campaign_seeds(SEED, RUNS)


def test_campaign_without_distributions_has_no_draws_column():
    plain = parse_scenario(nominal(reduced_mc_data()), "plain")
    result = run_campaign(plain, 1, seed=SEED, workers=1)
    assert "draws" not in result.table.column_names
    assert result.table.column("status").to_pylist() == ["ok"]
