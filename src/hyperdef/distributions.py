"""Monte Carlo distributions in scenario documents.

Any value of a scenario YAML document, at any depth and inside lists, may be written as a
distribution instead of a value; a campaign (:func:`hyperdef.montecarlo.run_campaign`) then
draws a fresh scenario for each run:

```yaml
threats:
  - kind: hgv
    from: [{uniform: [37.5, 38.5]}, 118.0]          # each element of a pair may vary
    to: [26.2, 127.7]
    launch_time_s: {uniform: [0, 60]}                # low <= high
    maneuver: {choice: [none, weave]}                # any values, numeric or not
sensors:
  - site: {lat_deg: {normal: {mean: 27.6, sd: 0.2, max: 28.0}}, lon_deg: 126.0}
```

=========================================== ========================= =================
form                                        draw                      nominal
=========================================== ========================= =================
``{normal: {mean: M, sd: S}}``              ``M + S * N(0, 1)``       ``M``
``{normal: {mean: M, sd: S, min: A, max: B}}`` the draw clipped to     ``M`` clipped
                                            ``[A, B]`` (either bound
                                            optional)
``{uniform: [A, B]}``                       uniform on ``[A, B)``     ``(A + B) / 2``
``{choice: [v1, v2, ...]}``                 one value, equally likely ``v1``
=========================================== ========================= =================

A mapping is a distribution only when its single key is ``normal``, ``uniform`` or
``choice``; every other mapping (``site: {lat_deg: ...}``) is ordinary data and is walked
into. A mapping that holds one of these keys beside other keys is an error (no scenario
field has those names). A choice's values may themselves hold distributions, drawn after
the choice. Draws of ``normal`` and ``uniform`` are floats: an integer field (``count``,
``inventory``) takes a ``choice`` of integers.

:func:`sample` walks the document in a fixed order (mapping keys as written, list items in
order) and draws each distribution once from the ``rng`` given, so the same generator state
gives the same scenario. :func:`nominal` replaces each distribution by its nominal value;
:func:`load_scenario_with_distributions` validates that nominal scenario once, plus every
choice value and every bound of a uniform or clipped normal, and keeps the original
document (with its distributions) in :attr:`hyperdef.scenario.Scenario.data` for the
campaign's per-run draws.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from hyperdef.errors import ScenarioError

if TYPE_CHECKING:  # hyperdef.scenario may import this module: no import cycle at load time
    from hyperdef.scenario import Scenario

__all__ = [
    "DISTRIBUTION_KEYS",
    "Choice",
    "Normal",
    "Uniform",
    "check_distributions",
    "has_distributions",
    "load_scenario_with_distributions",
    "nominal",
    "sample",
    "sample_with_draws",
]

#: The keys that make a one-key mapping a distribution.
DISTRIBUTION_KEYS = ("normal", "uniform", "choice")
_NORMAL_KEYS = ("mean", "sd", "min", "max")


@dataclass(frozen=True, slots=True)
class Normal:
    """Gaussian ``N(mean, sd**2)``, optionally clipped to ``[low, high]`` (None: open)."""

    mean: float
    sd: float
    low: float | None = None
    high: float | None = None

    def nominal(self) -> float:
        return self._clip(self.mean)

    def draw(self, rng: np.random.Generator) -> float:
        return self._clip(float(rng.normal(self.mean, self.sd)))

    def extremes(self) -> tuple[float, ...]:
        return tuple(b for b in (self.low, self.high) if b is not None)

    def _clip(self, value: float) -> float:
        if self.low is not None:
            value = max(value, self.low)
        if self.high is not None:
            value = min(value, self.high)
        return float(value)


@dataclass(frozen=True, slots=True)
class Uniform:
    """Uniform on ``[low, high)`` (``low == high`` is allowed: a constant)."""

    low: float
    high: float

    def nominal(self) -> float:
        return 0.5 * (self.low + self.high)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def extremes(self) -> tuple[float, ...]:
        return (self.low, self.high)


@dataclass(frozen=True, slots=True)
class Choice:
    """One of ``options``, each equally likely; the first is the nominal value."""

    options: tuple[Any, ...]

    def nominal(self) -> Any:
        return copy.deepcopy(self.options[0])

    def draw(self, rng: np.random.Generator) -> Any:
        return copy.deepcopy(self.options[int(rng.integers(len(self.options)))])

    def extremes(self) -> tuple[Any, ...]:
        return self.options[1:]


Distribution = Normal | Uniform | Choice


# --------------------------------------------------------------------------- parsing
def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _where(path: str) -> str:
    return path or "(file)"


def _distribution(node: Any, path: str) -> Distribution | None:
    """The distribution ``node`` spells, None for ordinary data; ScenarioError if malformed."""
    if not isinstance(node, dict):
        return None
    keys = [k for k in node if k in DISTRIBUTION_KEYS]
    if not keys:
        return None
    where = _where(path)
    if len(node) != 1:
        raise ScenarioError(
            f"{where}: a distribution is a mapping with one key ({', '.join(DISTRIBUTION_KEYS)}),"
            f" got keys {', '.join(str(k) for k in node)}"
        )
    kind, spec = next(iter(node.items()))
    if kind == "normal":
        if not isinstance(spec, dict):
            raise ScenarioError(
                f"{where}: normal needs a mapping {{mean: M, sd: S}} (optional min, max), "
                f"got {spec!r}"
            )
        unknown = [k for k in spec if k not in _NORMAL_KEYS]
        if unknown:
            raise ScenarioError(
                f"{where}: normal: unknown key {unknown[0]!r}; allowed: {', '.join(_NORMAL_KEYS)}"
            )
        mean, sd = spec.get("mean"), spec.get("sd")
        if not (_is_number(mean) and _is_number(sd) and sd >= 0):
            raise ScenarioError(
                f"{where}: normal needs mean and sd >= 0 (finite numbers), "
                f"got mean={mean!r}, sd={sd!r}"
            )
        low, high = spec.get("min"), spec.get("max")
        for name, bound in (("min", low), ("max", high)):
            if bound is not None and not _is_number(bound):
                raise ScenarioError(
                    f"{where}: normal {name} must be a finite number, got {bound!r}"
                )
        if low is not None and high is not None and low > high:
            raise ScenarioError(f"{where}: normal has min {low} > max {high}")
        return Normal(
            float(mean),
            float(sd),
            None if low is None else float(low),
            None if high is None else float(high),
        )
    if kind == "uniform":
        if not (isinstance(spec, list | tuple) and len(spec) == 2 and all(map(_is_number, spec))):
            raise ScenarioError(
                f"{where}: uniform needs [low, high] (two finite numbers), got {spec!r}"
            )
        low, high = spec
        if low > high:
            raise ScenarioError(f"{where}: uniform: [{low}, {high}] has low > high")
        return Uniform(float(low), float(high))
    # choice
    if not isinstance(spec, list | tuple) or len(spec) == 0:
        raise ScenarioError(f"{where}: choice needs a non-empty list of values, got {spec!r}")
    for i, option in enumerate(spec):
        _check(option, _join(f"{path}.choice", i))
    return Choice(tuple(spec))


def _children(node: Any, path: str) -> Iterator[tuple[Any, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield value, _join(path, str(key))
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            yield value, _join(path, i)


def _check(node: Any, path: str) -> None:
    if _distribution(node, path) is None:
        for child, child_path in _children(node, path):
            _check(child, child_path)


def _sites(node: Any, path: str = "") -> Iterator[tuple[str, Distribution]]:
    """Every top-level distribution of the document (not inside a choice) with its path."""
    dist = _distribution(node, path)
    if dist is not None:
        yield path, dist
        return
    for child, child_path in _children(node, path):
        yield from _sites(child, child_path)


def _map(node: Any, path: str, replace) -> Any:
    """A copy of ``node`` with ``replace(distribution, path)`` for each distribution."""
    dist = _distribution(node, path)
    if dist is not None:
        return replace(dist, path)
    if isinstance(node, dict):
        return {key: _map(value, _join(path, str(key)), replace) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [_map(value, _join(path, i), replace) for i, value in enumerate(node)]
    return copy.deepcopy(node)


# --------------------------------------------------------------------------- public API
def has_distributions(data: Any) -> bool:
    """Whether any value of the document is a distribution mapping.

    Raises
    ------
    hyperdef.errors.ScenarioError
        A malformed distribution met on the way (named by its path).
    """
    return next(_sites(data), None) is not None


def check_distributions(data: Any, source: str = "") -> None:
    """Raise if any distribution of the document is malformed.

    Parameters
    ----------
    data : Any
        Parsed YAML document.
    source : str
        File name prefixed to the message (``"single_hgv_mc.yaml: threats[0]...: ..."``).

    Raises
    ------
    hyperdef.errors.ScenarioError
        One line naming the distribution's path, e.g.
        ``threats[0].launch_time_s: uniform: [5, 1] has low > high``.
    """
    try:
        _check(data, "")
    except ScenarioError as exc:
        if source:
            raise ScenarioError(f"{source}: {exc}") from None
        raise


def nominal(data: Any) -> Any:
    """A deep copy of the document with each distribution replaced by its nominal value.

    Nominal values: a normal's mean (clipped to its ``min``/``max``), a uniform's midpoint,
    a choice's first value (itself made nominal).
    """
    return _map(data, "", lambda dist, path: nominal(dist.nominal()))


def sample_with_draws(data: Any, rng: np.random.Generator) -> tuple[Any, dict[str, Any]]:
    """:func:`sample` and the values drawn, ``{path: value}`` in draw order.

    Parameters
    ----------
    data : Any
        Parsed YAML document.
    rng : numpy.random.Generator
        Source of every draw; the document is walked in a fixed order, so the same
        generator state gives the same draws.

    Returns
    -------
    drawn : Any
        Deep copy of ``data`` with every distribution replaced by a draw.
    draws : dict
        Each drawn value by its path (``"threats[0].launch_time_s"``); a distribution
        inside a chosen value is listed under ``"<path>.choice[i]..."``.
    """
    draws: dict[str, Any] = {}

    def draw(dist: Distribution, path: str) -> Any:
        if isinstance(dist, Choice):
            index = int(rng.integers(len(dist.options)))
            value = _map(dist.options[index], _join(f"{path}.choice", index), draw)
        else:
            value = dist.draw(rng)
        draws[path] = value
        return value

    return _map(data, "", draw), draws


def sample(data: Any, rng: np.random.Generator) -> Any:
    """A deep copy of the document with every distribution replaced by one draw from ``rng``.

    Mapping keys are walked in their written order and list items in order, each
    distribution drawing once, so the same generator state gives the same document.

    Raises
    ------
    hyperdef.errors.ScenarioError
        A malformed distribution (named by its path).
    """
    return sample_with_draws(data, rng)[0]


def load_scenario_with_distributions(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario YAML file whose values may be distributions.

    Without distributions this is :func:`hyperdef.scenario.parse_scenario` of the file.
    With them, the distributions are checked, the nominal scenario is validated and built,
    and so is, once each, the nominal scenario with one distribution set to one of its
    other possible values (each value of a choice after the first, each bound of a
    uniform or of a clipped normal), so a bad maneuver name or an out-of-range latitude
    fails here rather than in every run. The returned scenario is the nominal one, with
    :attr:`~hyperdef.scenario.Scenario.data` the original document, distributions kept.

    Raises
    ------
    hyperdef.errors.ScenarioError
        One line naming the file and the field (or the YAML problem and its line).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(f"{path}: not valid YAML{where}: {problem}") from None
    return scenario_with_distributions(data, path.name)


def scenario_with_distributions(data: Any, source: str = "") -> Scenario:
    """:func:`load_scenario_with_distributions` of an already parsed YAML document."""
    from hyperdef.scenario import parse_scenario

    check_distributions(data, source)
    if not has_distributions(data):
        return parse_scenario(data, source)
    scenario = parse_scenario(nominal(data), source)
    for site, dist in _sites(data):
        for value in dist.extremes():

            def pinned(d: Distribution, p: str, site=site, value=value) -> Any:
                return nominal(value) if p == site else nominal(d.nominal())

            try:
                parse_scenario(_map(data, "", pinned), source)
            except ScenarioError as exc:
                raise ScenarioError(f"{exc} (with {site} = {value!r}, a possible draw)") from None
    return dataclasses.replace(scenario, data=data)
