"""Monte Carlo campaigns: one scenario run many times, locally or on a Dask cluster.

:func:`run_campaign` runs a scenario ``runs`` times. Run ``i`` draws its randomness from
child ``i`` of ``numpy.random.SeedSequence(seed).spawn(runs)`` (turned into the integer
seed that :func:`hyperdef.simulation.run_scenario` takes), so the per-run table is the same
whatever the number of workers or the backend: in-process, local processes
(:class:`concurrent.futures.ProcessPoolExecutor`) or a Dask distributed cluster.

Runs are flown in lockstep: consecutive chunks of up to ``lockstep`` runs go through
:func:`hyperdef.simulation.run_draws` together, which gives every run exactly what it gives
that run alone, so the chunking changes the speed, never a row. Work is submitted per chunk
and rows are keyed by run index: a chunk whose worker dies is run again (Dask reschedules
it; a broken local pool is rebuilt and only the chunks with missing runs resubmitted), no
run is counted twice, and the table is ordered by index. A run that raises comes back as a
row with ``status == "error"`` and the message, so one bad draw never stops a campaign
(STYLE.md 8); aggregates use the ``"ok"`` rows.

:func:`summarize_campaign` turns the per-run table into the campaign's aggregates
(probability of raid negation and per-threat kill probability with Wilson 95 % intervals,
leaker histogram, detection and firm-track time statistics, tracking RMSE and interceptors
used); :func:`write_campaign` writes ``campaign.parquet``, ``campaign.json`` and
``campaign.png``, each atomically.

The per-run table has one row per run, in run order:

=========================== ================ =============================================
column                      type             meaning
=========================== ================ =============================================
run                         int64            run index ``i``
seed                        int64            run seed ``campaign_seeds(seed, runs)[i]``;
                                             given to ``run_scenario`` as it is unless the
                                             scenario has distributions (below)
status                      string           ``"ok"`` or ``"error"``
error                       string           message when ``status == "error"``, else null
shots                       int64            interceptors fired
kills                       int64            threats killed
leakers                     int64            threats not killed
refused_shots               int64            engagements refused (marking, inventory, ...)
raid_negated                int8             1 when every threat was killed
killed                      list<int8>       per threat (object id order): 1 when killed
leaked                      list<int8>       per threat: 1 when not killed
engaged                     list<int8>       per threat: 1 when at least one shot was taken
first_detection_s           list<double>     per threat: first detection after its launch,
                                             s (null when never detected)
first_detection_range_km    list<double>     per threat: range at first detection, km
firm_track_s_<NODE>         list<double>     per threat: time to firm track at node, s
                                             (as ``run_scenario`` reports it; null if none)
warning_s_<NODE>            list<double>     per threat: flight time left after the firm
                                             track at node, s (null if none)
completeness_<NODE>         list<double>     per threat: fraction of the flight a confirmed
                                             track at node follows it
rmse_pos_m_<NODE>           double           node's position RMSE, m (null if no track)
rmse_vel_m_s_<NODE>         double           node's velocity RMSE, m/s
draws                       string           JSON ``{path: value}`` of the values drawn
                                             (only for a scenario with distributions)
wall_s                      double           wall time of the run on its worker, s: its
                                             share of its lockstep chunk's
cpu_s                       double           CPU time of the worker process, s: the
                                             run's share of its chunk's
=========================== ================ =============================================

A scenario whose :attr:`~hyperdef.scenario.Scenario.data` holds distributions
(:mod:`hyperdef.distributions`, loaded with
:func:`hyperdef.distributions.load_scenario_with_distributions`) is drawn afresh for each
run: ``SeedSequence(run seed).spawn(2)`` gives one child for the draws and one for the
simulation's integer seed, so both depend only on ``(seed, run)``.

Every column but ``wall_s`` and ``cpu_s`` is a deterministic function of
``(scenario, seed, run)``: compare tables with ``table.drop(TIMING_COLUMNS)``.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import os
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hyperdef.errors import InputError
from hyperdef.scenario import Scenario

__all__ = [
    "LOCKSTEP_RUNS",
    "group_reports",
    "TIMING_COLUMNS",
    "CampaignResult",
    "campaign_seeds",
    "run_campaign",
    "summarize_campaign",
    "write_campaign",
]

#: Per-run columns that measure the machine rather than the scenario.
TIMING_COLUMNS = ("wall_s", "cpu_s")
#: How many times a broken local process pool is rebuilt before the runs still missing
#: are recorded as errors.
MAX_POOL_RESTARTS = 3
#: Runs flown together in one lockstep batch by default: the per-step overhead of each
#: stage is shared by the batch (the engagement loop costs as many steps as the batch's
#: longest flight, the tracker a pass per scan). Measured on 2 cores, CPU per
#: ``single_hgv`` run tracked and engaged in one group: 0.37 s in 32-run batches, 0.31 s
#: in 64-run ones, 0.28-0.31 s in 128-run ones (3.1 GB) on one day; 0.52-0.61 s in 64-run
#: and 0.44-0.47 s in 128-run ones (0.46 s in 256-run ones, 5.9 GB) on a slower one.
#: Memory stays bounded whatever the size: a batch is tracked in groups of at most
#: :func:`group_reports` reports.
LOCKSTEP_RUNS = 128
#: Share of the machine's available memory a campaign's lockstep groups may hold, all
#: workers together (one worker per core).
MEMORY_SHARE = 0.5
#: Fewest reports a group is cut to on a machine short of memory (about 40 MB).
MIN_GROUP_REPORTS = 10_000
#: Dask retries of one chunk task (on top of the scheduler's rescheduling of lost workers).
DASK_RETRIES = 2


@dataclass
class CampaignResult:
    """Per-run table and aggregates of a campaign.

    Attributes
    ----------
    scenario : str
        Scenario name.
    seed : int
        Root seed; run ``i`` used ``campaign_seeds(seed, runs)[i]``.
    runs : int
        Number of runs.
    backend : str
        ``"inprocess"``, ``"processes"`` or ``"dask"``.
    workers : int
        Local workers used (for Dask: the cluster's worker count when the run started).
    table : pyarrow.Table
        One row per run, ordered by run index (columns in the module docstring).
    aggregates : dict
        :func:`summarize_campaign` of ``table``.
    wall_s : float
        Wall time of the whole campaign, s (includes pool or cluster start-up).
    """

    scenario: str
    seed: int
    runs: int
    backend: str
    workers: int
    table: pa.Table
    aggregates: dict[str, Any]
    wall_s: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def runs_per_minute(self) -> float:
        """Completed runs per minute of campaign wall time."""
        return 60.0 * self.runs / self.wall_s if self.wall_s > 0 else math.nan


# --------------------------------------------------------------------------- seeds
def campaign_seeds(seed: int, runs: int) -> list[int]:
    """Integer seed of every run: ``SeedSequence(seed).spawn(runs)[i].generate_state(1)[0]``.

    Parameters
    ----------
    seed : int
        Root seed, >= 0.
    runs : int
        Number of runs, >= 1.

    Returns
    -------
    list of int
        ``runs`` seeds in ``[0, 2**32)``; seed ``i`` does not depend on ``runs``.
    """
    children = np.random.SeedSequence(seed).spawn(runs)
    return [int(child.generate_state(1)[0]) for child in children]


# --------------------------------------------------------------------------- runs
def _error_row(run: int, seed: int, exc: BaseException, draws: str | None) -> dict[str, Any]:
    return {
        "run": run,
        "seed": seed,
        "status": "error",
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": traceback.format_exc(limit=5),
        "draws": draws,
    }


#: glibc ``mallopt`` parameters (malloc.h) and their defaults
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_DEFAULT_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 128 * 1024, 65536
_heap_kept = False


def _glibc():
    """The C library through ctypes where it is glibc (Linux), else None."""
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _keep_heap(keep: bool) -> bool:
    """Have glibc keep freed memory for reuse (``keep``), or return to its defaults and
    give the free memory back to the system; True where the setting took.

    By default glibc serves every allocation above 32 MiB with a fresh ``mmap`` and
    unmaps it when freed, so each lockstep batch faults in (and the kernel zeroes) its
    gigabytes of arrays anew: 10,000 page faults per ``single_hgv`` run, 0.04-0.06 s of
    kernel time of its 0.4 s. With ``mmap`` off and the heap never trimmed, the next
    batch reuses the pages: kernel time per run falls to 0.02-0.03 s and CPU per run by
    about 8 % (64-run batches, 2 cores, benchmarks/RESULTS.md). The worker's resident
    memory stays at its largest batch's.

    References
    ----------
    ``mallopt(3)``, ``malloc_trim(3)``, Linux man-pages (``M_MMAP_MAX``,
    ``M_TRIM_THRESHOLD``).
    """
    global _heap_kept
    libc = _glibc()
    if libc is None:
        return False
    if keep:
        ok = libc.mallopt(_M_MMAP_MAX, 0) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1 and ok
    else:
        ok = libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD) == 1 and ok
        libc.malloc_trim(0)
    _heap_kept = keep and ok
    return ok


@contextmanager
def _kept_heap() -> Iterator[None]:
    """:func:`_keep_heap` for the duration of an in-process campaign (nothing where it
    is already kept, as in a worker process)."""
    if _heap_kept or not _keep_heap(True):
        yield
        return
    try:
        yield
    finally:
        _keep_heap(False)


@contextmanager
def _small_pages() -> Iterator[None]:
    """NumPy's transparent huge pages off while a chunk runs, then back as they were.

    NumPy advises the kernel to back every large array with 2 MiB huge pages. A lockstep
    chunk allocates and frees gigabytes of short-lived arrays, so the kernel spends its
    time zeroing fresh huge pages (13 % of a 64-run chunk's CPU, measured with
    ``perf``: ``clear_page_erms`` under ``do_huge_pmd_anonymous_page``), and two
    workers compete for the memory bandwidth it takes. With 4 KiB pages the kernel time
    of a chunk falls by about two thirds. The switch is NumPy's own
    (``NUMPY_MADVISE_HUGEPAGE``); where this NumPy lacks it, nothing changes.
    """
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # NumPy 1.x keeps it in numpy.core
        try:
            from numpy.core.multiarray import _set_madvise_hugepage
        except ImportError:
            yield
            return
    before = _set_madvise_hugepage(False)
    try:
        yield
    finally:
        _set_madvise_hugepage(before)


def _run_chunk(scenario: Scenario, runs: list[int], seeds: list[int]) -> list[dict[str, Any]]:
    """Run a chunk of the campaign in lockstep and reduce each run to its row (worker side).

    The chunk's draws go through :func:`hyperdef.simulation.draw_summaries` together
    (:func:`~hyperdef.simulation.run_draws` in bounded memory, summaries only); each
    draw's outcome is the one it has alone, so the rows do not depend on how runs are
    chunked. Should the batch raise (a drawn value the model refuses), every draw is run
    alone, so only the bad ones become error rows. Only the small rows travel back, never
    the tables. ``wall_s`` and ``cpu_s`` are the chunk's, shared equally among its runs.
    """
    import multiprocessing

    from hyperdef.simulation import draw_summaries

    if multiprocessing.parent_process() is not None and not _heap_kept:
        _keep_heap(True)  # a worker process: its chunks reuse one another's memory
    start, cpu_start = time.perf_counter(), time.process_time()
    rows: dict[int, dict[str, Any]] = {}
    ready = []  # (run, seed, drawn scenario, simulation seed, draws)
    for run, seed in zip(runs, seeds, strict=True):
        draws = None
        try:
            drawn, sim_seed, draws = _draw_scenario(scenario, seed)
            ready.append((run, seed, drawn, sim_seed, draws))
        except Exception as exc:  # an expected outcome: recorded, the campaign goes on
            rows[run] = _error_row(run, seed, exc, draws)
    summaries: dict[int, dict[str, Any]] = {}
    if ready:
        try:
            with _small_pages():
                results = draw_summaries([r[2] for r in ready], [r[3] for r in ready],
                                         max_reports=group_reports())
            summaries = dict(zip([r[0] for r in ready], results, strict=True))
        except Exception:  # find the draws that raise: each alone
            for run, seed, drawn, sim_seed, draws in ready:
                try:
                    summaries[run] = draw_summaries([drawn], [sim_seed])[0]
                except Exception as exc:
                    rows[run] = _error_row(run, seed, exc, draws)
    for run, seed, _, _, draws in ready:
        if run in summaries:
            row = _row_from_summary(summaries[run], scenario.nodes)
            row.update(run=run, seed=seed, status="ok", error=None, draws=draws)
            rows[run] = row
    wall = (time.perf_counter() - start) / len(runs)
    cpu = (time.process_time() - cpu_start) / len(runs)
    for row in rows.values():
        row.update(wall_s=wall, cpu_s=cpu)
    return [rows[run] for run in runs]


def _available_memory_bytes() -> int | None:
    """Memory the system can give without swapping (``MemAvailable``), None if unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def group_reports(cores: int | None = None, available_bytes: int | None = None) -> int:
    """Sensor reports one worker tracks and engages together in a lockstep group.

    Each core's worker may hold :data:`MEMORY_SHARE` of the available memory divided by
    the cores, at :data:`hyperdef.simulation.REPORT_BYTES` per report, within
    [:data:`MIN_GROUP_REPORTS`, :data:`hyperdef.simulation.MAX_GROUP_REPORTS`]: on 2
    cores and 24 GB that is the 1,000,000 cap (128 ``single_hgv`` runs in one group);
    on 16 cores and 32 GB, about 240,000. The grouping never changes a run's row
    (:func:`hyperdef.simulation.draw_summaries`), only the memory and the speed.

    Parameters
    ----------
    cores : int, optional
        Workers sharing the machine (default: its logical CPUs).
    available_bytes : int, optional
        Available memory, bytes (default: ``MemAvailable`` of ``/proc/meminfo``; the cap
        where it cannot be read).
    """
    from hyperdef.simulation import MAX_GROUP_REPORTS, REPORT_BYTES

    cores = max(1, int(cores or os.cpu_count() or 1))
    if available_bytes is None:
        available_bytes = _available_memory_bytes()
    if available_bytes is None:
        return MAX_GROUP_REPORTS
    share = int(MEMORY_SHARE * available_bytes / cores / REPORT_BYTES)
    return max(MIN_GROUP_REPORTS, min(MAX_GROUP_REPORTS, share))


def _chunks(runs: int, workers: int, size: int) -> list[list[int]]:
    """Run indices in consecutive chunks of at most ``size``, at least one per worker."""
    per = max(1, min(size, -(-runs // max(workers, 1))))
    return [list(range(lo, min(lo + per, runs))) for lo in range(0, runs, per)]


def _draw_scenario(scenario: Scenario, seed: int) -> tuple[Scenario, int, str | None]:
    """``(scenario, simulation seed, draws)`` of one run.

    Without distributions in ``scenario.data``: the scenario itself, ``seed`` and None.
    With them, ``SeedSequence(seed)`` is split in two: the first child draws the run's
    scenario (:func:`hyperdef.distributions.sample_with_draws`), the second gives the
    simulation's integer seed, so the draws do not shift the simulation's random stream.
    ``draws`` is the JSON text of the values drawn, by path.
    """
    from hyperdef.distributions import has_distributions, sample_with_draws
    from hyperdef.scenario import parse_scenario

    if scenario.data is None or not has_distributions(scenario.data):
        return scenario, seed, None
    draw_seed, sim_seed = np.random.SeedSequence(seed).spawn(2)
    data, draws = sample_with_draws(scenario.data, np.random.default_rng(draw_seed))
    text = json.dumps(draws, default=str)
    drawn = parse_scenario(data, scenario.source)
    return drawn, int(sim_seed.generate_state(1)[0]), text


def _row_from_summary(summary: dict[str, Any], nodes: tuple[str, ...]) -> dict[str, Any]:
    threats = summary["threats"]
    killed = [int(bool(t["killed"])) for t in threats]
    row: dict[str, Any] = {
        "shots": int(summary["shots"]),
        "kills": int(summary["kills"]),
        "leakers": int(summary["leakers"]),
        "refused_shots": int(summary.get("refused_shots", 0)),
        "raid_negated": int(all(killed)),
        "killed": killed,
        "leaked": [1 - k for k in killed],
        "engaged": [int(bool(t["engaged"])) for t in threats],
        "first_detection_s": [
            None if t["first_detection"] is None else float(t["first_detection"]["t_s"])
            for t in threats
        ],
        "first_detection_range_km": [
            None if t["first_detection"] is None else float(t["first_detection"]["range_km"])
            for t in threats
        ],
    }
    tracking = summary.get("tracking", {})
    for node in nodes:
        row[f"firm_track_s_{node}"] = [
            _float_or_none(t["time_to_firm_track_s"].get(node)) for t in threats
        ]
        row[f"warning_s_{node}"] = [
            _float_or_none(t.get("warning_time_s", {}).get(node)) for t in threats
        ]
        row[f"completeness_{node}"] = [
            _float_or_none(t.get("track_completeness", {}).get(node)) for t in threats
        ]
        stats = tracking.get(node, {})
        row[f"rmse_pos_m_{node}"] = _float_or_none(stats.get("rmse_pos_m"))
        row[f"rmse_vel_m_s_{node}"] = _float_or_none(stats.get("rmse_vel_m_s"))
    return row


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _table(rows: list[dict[str, Any]], nodes: tuple[str, ...]) -> pa.Table:
    """Rows (ordered by run) to the per-run table with a fixed schema."""
    ints = ("shots", "kills", "leakers", "refused_shots")
    flags = ("killed", "leaked", "engaged")
    times = ("first_detection_s", "first_detection_range_km")
    fields: list[tuple[str, pa.DataType]] = [
        ("run", pa.int64()),
        ("seed", pa.int64()),
        ("status", pa.string()),
        ("error", pa.string()),
        *[(n, pa.int64()) for n in ints],
        ("raid_negated", pa.int8()),
        *[(n, pa.list_(pa.int8())) for n in flags],
        *[(n, pa.list_(pa.float64())) for n in times],
    ]
    for node in nodes:
        fields += [
            (f"firm_track_s_{node}", pa.list_(pa.float64())),
            (f"warning_s_{node}", pa.list_(pa.float64())),
            (f"completeness_{node}", pa.list_(pa.float64())),
            (f"rmse_pos_m_{node}", pa.float64()),
            (f"rmse_vel_m_s_{node}", pa.float64()),
        ]
    if any(row.get("draws") is not None for row in rows):
        fields.append(("draws", pa.string()))
    fields += [("wall_s", pa.float64()), ("cpu_s", pa.float64())]
    schema = pa.schema(fields)
    return pa.table(
        {
            name: pa.array([row.get(name) for row in rows], type=dtype)
            for name, dtype in zip(schema.names, schema.types, strict=True)
        },
        schema=schema,
    )


# --------------------------------------------------------------------------- backends
def _check(scenario: Any, runs: Any, seed: Any, workers: Any) -> None:
    if not isinstance(scenario, Scenario):
        raise InputError(
            f"scenario: expected a Scenario (load_scenario), got {type(scenario).__name__}"
        )
    for name, value, low in (("runs", runs, 1), ("seed", seed, 0), ("workers", workers, 1)):
        if value is None and name == "workers":
            continue
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise InputError(f"{name}: expected an integer, got {value!r}")
        if value < low:
            raise InputError(f"{name}: {value} must be >= {low}")


def _collect(results: dict[int, dict], rows: list[dict], total: int, progress) -> None:
    """Keep the rows of a finished chunk; a run already kept is never counted twice."""
    for row in rows:
        results.setdefault(int(row["run"]), row)
    if progress is not None:
        progress(len(results), total)


def _run_inprocess(task, scenario, seeds, chunks, progress) -> dict[int, dict]:
    results: dict[int, dict] = {}
    with _kept_heap():
        for chunk in chunks:
            _collect(results, task(scenario, chunk, [seeds[r] for r in chunk]), len(seeds),
                     progress)
    return results


def _run_processes(task, scenario, seeds, chunks, workers, progress) -> dict[int, dict]:
    """Local process pool, a chunk per task; a broken pool is rebuilt and only the chunks
    with missing runs resubmitted."""
    results: dict[int, dict] = {}
    missing = list(chunks)
    restarts = 0
    while missing:
        try:
            with cf.ProcessPoolExecutor(max_workers=min(workers, len(missing))) as pool:
                futures = [pool.submit(task, scenario, chunk, [seeds[r] for r in chunk])
                           for chunk in missing]
                for future in cf.as_completed(futures):
                    _collect(results, future.result(), len(seeds), progress)
        except BrokenProcessPool as exc:
            restarts += 1
            missing = [c for c in chunks if any(run not in results for run in c)]
            if restarts > MAX_POOL_RESTARTS:
                for run in (r for c in missing for r in c if r not in results):
                    results[run] = {
                        "run": run,
                        "seed": seeds[run],
                        "status": "error",
                        "error": f"worker process died: {exc}",
                        "wall_s": None,
                    }
                break
            continue
        missing = [c for c in chunks if any(run not in results for run in c)]
    return results


def _dask_client(scheduler: Any, workers: int | None):
    """``(client, owned)``: a Client for the address, 'local' or Client given."""
    try:
        import distributed
    except ImportError:
        raise InputError(
            "scheduler: Dask is not installed (pip install 'dask[distributed]')"
        ) from None
    if isinstance(scheduler, distributed.Client):
        return scheduler, False
    if scheduler == "local":
        cluster = distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        return distributed.Client(cluster), True
    if not isinstance(scheduler, str) or not scheduler:
        raise InputError(
            f"scheduler: expected a Dask scheduler address "
            f"('tcp://host:8786'), 'local' or a distributed.Client, got "
            f"{scheduler!r}"
        )
    try:
        return distributed.Client(scheduler, timeout="30s"), True
    except OSError as exc:
        raise InputError(f"scheduler: cannot connect to {scheduler!r} ({exc})") from None


def _run_dask(task, scenario, seeds, chunks, client, progress) -> dict[int, dict]:
    """One task per chunk of run indices with a unique, index-named key (Dask reruns lost
    tasks; rows are keyed by run index, so none is kept twice)."""
    from distributed import as_completed

    token = uuid.uuid4().hex[:12]
    remote = client.scatter(scenario, broadcast=True)
    futures = {
        client.submit(
            task,
            remote,
            chunk,
            [seeds[r] for r in chunk],
            key=f"hyperdef-runs-{token}-{chunk[0]}-{chunk[-1]}",
            retries=DASK_RETRIES,
            pure=False,
        ): chunk
        for chunk in chunks
    }
    results: dict[int, dict] = {}
    try:
        for future in as_completed(list(futures)):
            chunk = futures[future]
            try:
                rows = future.result()
            except Exception as exc:  # KilledWorker after the allowed failures
                rows = [{"run": run, "seed": seeds[run], "status": "error",
                         "error": f"{type(exc).__name__}: {exc}", "wall_s": None}
                        for run in chunk]
            _collect(results, rows, len(seeds), progress)
    finally:
        client.cancel(list(futures))
    return results


def run_campaign(
    scenario: Scenario,
    runs: int,
    *,
    seed: int,
    workers: int | None = None,
    scheduler: Any = None,
    progress: Callable[[int, int], None] | None = None,
    lockstep: int = LOCKSTEP_RUNS,
    _task: Callable[..., list[dict]] | None = None,
) -> CampaignResult:
    """Run a scenario ``runs`` times and aggregate the outcomes.

    Parameters
    ----------
    scenario : Scenario
        From :func:`hyperdef.scenario.load_scenario`. It is pickled to the workers.
    runs : int
        Number of runs, >= 1.
    seed : int
        Root seed, >= 0 (keyword only). Run ``i`` uses ``campaign_seeds(seed, runs)[i]``.
    workers : int, optional
        Local worker processes (default ``os.cpu_count()``); 1 runs in this process. With
        ``scheduler='local'``: the LocalCluster's worker count. Ignored for a remote
        scheduler or a Client.
    scheduler : str or distributed.Client, optional
        None: local processes. A Dask scheduler address (``"tcp://host:8786"``), ``"local"``
        (a LocalCluster started and closed here) or a ``distributed.Client`` (left open).
    progress : callable, optional
        Called as ``progress(done, total)`` each time a chunk of runs completes.
    lockstep : int
        Runs flown together in one :func:`hyperdef.simulation.run_draws` batch, at most
        (>= 1; default :data:`LOCKSTEP_RUNS`). The runs are cut into consecutive chunks of
        that size, or fewer so every worker has one; a run's outcome does not depend on
        it, only the speed does (larger batches share more of each step's overhead).

    Returns
    -------
    CampaignResult
        The per-run table (ordered by run index, identical for every backend and worker
        count apart from ``wall_s``) and its aggregates.

    Raises
    ------
    hyperdef.errors.InputError
        ``runs`` or ``workers`` below 1, a negative ``seed``, a bad ``scheduler``.
    """
    _check(scenario, runs, seed, workers)
    if isinstance(lockstep, bool) or not isinstance(lockstep, int | np.integer) or lockstep < 1:
        raise InputError(f"lockstep: expected an integer >= 1, got {lockstep!r}")
    runs, seed = int(runs), int(seed)
    task = _run_chunk if _task is None else _task
    seeds = campaign_seeds(seed, runs)
    start = time.perf_counter()
    if scheduler is not None:
        client, owned = _dask_client(scheduler, workers)
        try:
            n_workers = len(client.scheduler_info().get("workers", {}))
            chunks = _chunks(runs, n_workers, int(lockstep))
            results = _run_dask(task, scenario, seeds, chunks, client, progress)
        finally:
            if owned:
                cluster = getattr(client, "cluster", None)
                client.close()
                if cluster is not None:
                    cluster.close()
        backend = "dask"
    else:
        n_workers = int(workers) if workers is not None else (os.cpu_count() or 1)
        chunks = _chunks(runs, n_workers, int(lockstep))
        if n_workers == 1 or len(chunks) == 1:
            results = _run_inprocess(task, scenario, seeds, chunks, progress)
            backend, n_workers = "inprocess", 1
        else:
            results = _run_processes(task, scenario, seeds, chunks, n_workers, progress)
            backend = "processes"
    wall_s = time.perf_counter() - start
    rows = [results[run] for run in range(runs)]
    table = _table(rows, scenario.nodes)
    return CampaignResult(
        scenario.name, seed, runs, backend, n_workers, table, summarize_campaign(table), wall_s
    )


# --------------------------------------------------------------------------- aggregates
def _interval(successes: int, trials: int) -> dict[str, Any]:
    from hyperdef.engagement.simulate import wilson_interval

    p, low, high = wilson_interval(successes, trials)
    return {
        "p": None if math.isnan(p) else p,
        "low": low,
        "high": high,
        "successes": successes,
        "trials": trials,
    }


def _stats(values: list[float | None]) -> dict[str, Any]:
    """Mean and 10/50/90th percentiles (linear interpolation) of the non-null values."""
    present = np.array([v for v in values if v is not None], dtype=float)
    missing = len(values) - present.size
    if present.size == 0:
        return {"n": 0, "missing": missing, "mean": None, "p10": None, "p50": None, "p90": None}
    p10, p50, p90 = np.percentile(present, [10, 50, 90])
    return {
        "n": int(present.size),
        "missing": int(missing),
        "mean": float(present.mean()),
        "p10": float(p10),
        "p50": float(p50),
        "p90": float(p90),
    }


def _flatten(column: list[list | None]) -> list:
    return [v for row in column if row is not None for v in row]


def summarize_campaign(table: pa.Table) -> dict[str, Any]:
    """Aggregates of a per-run table (the ``status == "ok"`` rows).

    Parameters
    ----------
    table : pyarrow.Table
        Per-run table as :func:`run_campaign` builds it (the columns it uses: ``status``,
        ``raid_negated``, ``killed``, ``leakers``, ``shots``, ``kills``,
        ``first_detection_s``, ``firm_track_s_<NODE>``, ``warning_s_<NODE>``,
        ``completeness_<NODE>``, ``rmse_pos_m_<NODE>``, ``rmse_vel_m_s_<NODE>``).

    Returns
    -------
    dict
        ``runs``, ``ok_runs``, ``failed_runs``; ``raid_negation`` and
        ``kill_probability`` (one per threat) as ``{p, low, high, successes, trials}``
        with the Wilson 95 % score interval; ``leakers_histogram`` (``counts[k]`` = runs
        with ``k`` leakers); ``first_detection_s``, and ``firm_track_s``, ``warning_s`` and
        ``track_completeness`` (per node), as ``{n, missing, mean, p10, p50, p90}`` over
        every (run, threat); ``rmse_pos_m_mean``
        and ``rmse_vel_m_s_mean`` per node; ``interceptors_used_mean``, ``kills_mean``,
        ``leakers_mean``. Values with no data are None.
    """
    ok = table.filter(pc.equal(table.column("status"), "ok"))
    n_ok = ok.num_rows
    killed = ok.column("killed").to_pylist()
    n_threats = max((len(k) for k in killed), default=0)
    leakers = ok.column("leakers").to_pylist()
    counts = np.bincount(np.asarray(leakers, dtype=np.int64), minlength=n_threats + 1)
    nodes = [
        name.removeprefix("rmse_pos_m_")
        for name in table.column_names
        if name.startswith("rmse_pos_m_")
    ]

    def mean(name: str) -> float | None:
        values = [v for v in ok.column(name).to_pylist() if v is not None]
        return float(np.mean(values)) if values else None

    return {
        "runs": table.num_rows,
        "ok_runs": n_ok,
        "failed_runs": table.num_rows - n_ok,
        "threats": n_threats,
        "raid_negation": _interval(int(sum(ok.column("raid_negated").to_pylist())), n_ok),
        "kill_probability": [
            {"object_id": i, **_interval(sum(k[i] for k in killed), n_ok)} for i in range(n_threats)
        ],
        "leakers_histogram": {
            "leakers": list(range(counts.size)),
            "counts": [int(c) for c in counts],
        },
        "leakers_mean": mean("leakers"),
        "kills_mean": mean("kills"),
        "interceptors_used_mean": mean("shots"),
        "first_detection_s": _stats(_flatten(ok.column("first_detection_s").to_pylist())),
        **{
            key: {node: _stats(_flatten(ok.column(f"{prefix}_{node}").to_pylist()))
                  for node in nodes if f"{prefix}_{node}" in ok.column_names}
            for key, prefix in (("firm_track_s", "firm_track_s"), ("warning_s", "warning_s"),
                                ("track_completeness", "completeness"))
        },
        "rmse_pos_m_mean": {node: mean(f"rmse_pos_m_{node}") for node in nodes},
        "rmse_vel_m_s_mean": {node: mean(f"rmse_vel_m_s_{node}") for node in nodes},
    }


# --------------------------------------------------------------------------- files
def write_campaign(result: CampaignResult, out_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Write ``campaign.parquet``, ``campaign.json`` and ``campaign.png`` into ``out_dir``.

    The folder is created; each file is written atomically
    (:func:`hyperdef.report.atomic_output`). The JSON holds the campaign's settings and
    :attr:`CampaignResult.aggregates`; the figure shows the leaker histogram and the
    first-detection times.

    Returns
    -------
    dict
        ``{"table": ..., "summary": ..., "figure": ...}`` paths as strings.
    """
    from hyperdef.report import atomic_output

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"out_dir: {str(out)!r} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "table": out / "campaign.parquet",
        "summary": out / "campaign.json",
        "figure": out / "campaign.png",
    }
    with atomic_output(paths["table"]) as tmp:
        pq.write_table(result.table, tmp)
    document = {
        "scenario": result.scenario,
        "seed": result.seed,
        "runs": result.runs,
        "backend": result.backend,
        "workers": result.workers,
        "wall_s": round(result.wall_s, 3),
        "runs_per_minute": round(result.runs_per_minute, 2),
        "seed_rule": "run i: int(SeedSequence(seed).spawn(runs)[i].generate_state(1)[0])",
        "aggregates": result.aggregates,
    }
    with atomic_output(paths["summary"]) as tmp:
        tmp.write_text(json.dumps(document, indent=2, allow_nan=False))
    figure = _figure(result)
    with atomic_output(paths["figure"]) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    return {k: str(v) for k, v in paths.items()}


def _figure(result: CampaignResult):
    """Leakers histogram and first-detection-time histogram (matplotlib object API, Agg)."""
    from matplotlib.figure import Figure

    agg = result.aggregates
    figure = Figure(figsize=(9.0, 3.6), layout="constrained")
    left, right = figure.subplots(1, 2)
    hist = agg["leakers_histogram"]
    left.bar(hist["leakers"], hist["counts"], color="tab:red", width=0.8)
    left.set_xlabel("leakers per run")
    left.set_ylabel("runs")
    left.set_xticks(hist["leakers"])
    raid = agg["raid_negation"]
    if raid["p"] is not None:
        left.set_title(
            f"raid negation {raid['p']:.2f} "
            f"[{raid['low']:.2f}, {raid['high']:.2f}] (n={raid['trials']})",
            fontsize=9,
        )
    ok = result.table.filter(pc.equal(result.table.column("status"), "ok"))
    times = [v for v in _flatten(ok.column("first_detection_s").to_pylist()) if v is not None]
    if times:
        right.hist(times, bins=min(30, max(5, len(times) // 3)), color="tab:blue")
    else:
        right.text(0.5, 0.5, "no detections", ha="center", va="center", transform=right.transAxes)
    right.set_xlabel("first detection after launch (s)")
    right.set_ylabel("threat-runs")
    figure.suptitle(f"{result.scenario}: {result.runs} runs, seed {result.seed}", fontsize=10)
    return figure
