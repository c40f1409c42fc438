"""hyperdef: an open testbed for counter-hypersonic defence research.

The kill chain is the architecture (see ``DESIGN.md``): ``core`` holds the shared
physics (frames, Earth, atmosphere, dynamics, integrators), ``threats`` flies the
hypersonic and ballistic threats, ``sensors`` observes them, ``tracking`` builds each
nation's picture and the fused one, ``engagement`` fires interceptors, and
:func:`run` ties one scenario through all of them::

    import hyperdef
    result = hyperdef.run("scenarios/single_hgv.yaml", out="run_single_hgv")
    result.summary["kills"]
    again = hyperdef.RunResult.load("run_single_hgv")
    mc = hyperdef.campaign("scenarios/single_hgv_mc.yaml", runs=20, seed=7, out="mc")
    mc.aggregates["raid_negation"]

:func:`campaign` runs Monte Carlo campaigns (:mod:`hyperdef.montecarlo`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # imported lazily: `import hyperdef` stays cheap
    from hyperdef.montecarlo import CampaignResult
    from hyperdef.simulation import RunResult


def run(scenario: Any, *, seed: int | None = None, out: Any = None) -> RunResult:
    """Run a scenario (a path to a YAML file, or a loaded ``Scenario``) once.

    Parameters
    ----------
    scenario : str, path-like or hyperdef.scenario.Scenario
    seed : int, optional
        Overrides the scenario's seed.
    out : str or path-like, optional
        When given, the run's files are written there (``hyperdef run --out``).
    """
    from hyperdef.scenario import Scenario, load_scenario
    from hyperdef.simulation import run_scenario, write_run

    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    result = run_scenario(loaded, seed=seed)
    if out is not None:
        write_run(result, out, scenario=loaded)
    return result


def campaign(scenario: Any, runs: int, *, seed: int = 0, workers: int | None = None,
             scheduler: Any = None, out: Any = None,
             lockstep: int | None = None) -> CampaignResult:
    """Monte Carlo campaign of a scenario, as ``hyperdef campaign`` runs it.

    Parameters
    ----------
    scenario : str, path-like or hyperdef.scenario.Scenario
        A YAML file (its distributions are drawn afresh for each run) or a loaded scenario.
    runs : int
        Number of runs, >= 1.
    seed : int
        Root seed, >= 0: run ``i`` uses ``SeedSequence(seed).spawn(runs)[i]``.
    workers : int, optional
        Local worker processes (default: every core); 1 runs in this process.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``"tcp://host:8786"``), ``"local"`` or a Client.
    out : str or path-like, optional
        When given, ``campaign.parquet``, ``campaign.json`` and ``campaign.png`` are
        written there.
    lockstep : int, optional
        Runs flown together in one batch, at most (speed only; default
        :data:`hyperdef.montecarlo.LOCKSTEP_RUNS`).

    Returns
    -------
    hyperdef.montecarlo.CampaignResult
    """
    from hyperdef.montecarlo import LOCKSTEP_RUNS, run_campaign, write_campaign
    from hyperdef.scenario import Scenario, load_scenario

    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    result = run_campaign(loaded, runs, seed=seed, workers=workers, scheduler=scheduler,
                          lockstep=LOCKSTEP_RUNS if lockstep is None else lockstep)
    if out is not None:
        write_campaign(result, out)
    return result


def __getattr__(name: str) -> Any:
    if name == "RunResult":
        from hyperdef.simulation import RunResult

        return RunResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
