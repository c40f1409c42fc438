"""Access decisions of the analysis store: Cedar policies over users and markings.

The policies live in ``policies.cedar`` next to this module. A decision depends only on
the user's nation and role, the action and the resource's attributes (release list,
originating node, account nation), so decisions are cached per such key: filtering a
query costs one policy evaluation per distinct marking, never one per row.

References
----------
Cedar policy language reference, https://docs.cedarpolicy.com (permit/forbid semantics,
``@id`` annotations, diagnostics reasons).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources as _resources

import cedarpy

from hyperdef.core.markings import check_node, parse_marking
from hyperdef.errors import HyperdefError, InputError

__all__ = [
    "ACTIONS",
    "DEFAULT_DENY",
    "ROLES",
    "AccessDenied",
    "Decision",
    "PolicyEngine",
    "Resource",
    "User",
]

#: actions the policies know
ACTIONS: tuple[str, ...] = ("read", "write", "run", "release", "audit", "manage_users")
#: roles a user may have
ROLES: tuple[str, ...] = ("analyst", "admin")
#: name recorded when no policy matched (Cedar denies by default)
DEFAULT_DENY = "default-deny"


class AccessDenied(HyperdefError):
    """The access policy denies the request; the message names the operation and policy."""


@dataclass(frozen=True, slots=True)
class User:
    """A store user.

    Attributes
    ----------
    id : int
        Database id.
    name : str
        Unique user name.
    nation : str
        ISO 3166-1 alpha-3 code of the user's nation (one of ``core.markings.NODES``).
    role : str
        ``analyst`` or ``admin``.
    """

    id: int
    name: str
    nation: str
    role: str


def check_role(role: str, field: str = "role") -> str:
    """Return ``role`` if it is one of :data:`ROLES`, else raise :class:`InputError`."""
    if role not in ROLES:
        raise InputError(f"{field}: {role!r} is not one of {', '.join(ROLES)}")
    return role


def check_user(user: User, field: str = "user") -> User:
    """Return ``user`` if it is a :class:`User` with a known nation and role."""
    if not isinstance(user, User):
        raise InputError(f"{field}: expected a hyperdef.store.User, got {type(user).__name__}")
    check_node(user.nation, f"{field}.nation")
    check_role(user.role, f"{field}.role")
    return user


@dataclass(frozen=True, slots=True)
class Resource:
    """What a request acts on, as the policies see it.

    Attributes
    ----------
    marking : str
        Releasability marking of the records (``""`` for non-record resources).
    node : str
        Originating nation of the records (``""`` when not a record).
    nation : str
        Nation of a user account (``manage_users``), else ``""``.
    """

    marking: str = ""
    node: str = ""
    nation: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """Outcome of one request: allowed or not, and the ``@id`` of the deciding policy."""

    allowed: bool
    policy: str


def _policy_text() -> str:
    return _resources.files("hyperdef.store").joinpath("policies.cedar").read_text("utf-8")


class PolicyEngine:
    """Evaluates the store's Cedar policies, with a cache of decisions.

    Parameters
    ----------
    policies : str, optional
        Cedar policy text; default the packaged ``policies.cedar``.
    """

    def __init__(self, policies: str | None = None) -> None:
        self._policies = cedarpy.PolicySet.from_str(policies or _policy_text())
        self._cache: dict[tuple[str, str, str, Resource], Decision] = {}

    def decide(self, user: User, action: str, resource: Resource = Resource()) -> Decision:
        """Decision for one request."""
        return self.decide_many(user, action, [resource])[0]

    def decide_many(self, user: User, action: str, resources: Sequence[Resource]) -> list[Decision]:
        """Decisions for one user and action over several resources (one Cedar batch).

        Parameters
        ----------
        user : User
        action : str
            One of :data:`ACTIONS`.
        resources : sequence of Resource

        Returns
        -------
        list of Decision
            In the order of ``resources``.
        """
        if action not in ACTIONS:
            raise InputError(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
        keys = [(user.nation, user.role, action, r) for r in resources]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            for key, decision in zip(missing, self._evaluate(user, action, missing), strict=True):
                self._cache[key] = decision
        return [self._cache[k] for k in keys]

    def _evaluate(self, user, action, keys) -> list[Decision]:
        principal = {"type": "User", "id": "principal"}
        entities = [
            {
                "uid": principal,
                "attrs": {"nation": user.nation, "role": user.role},
                "parents": [],
            }
        ]
        requests = []
        for i, (_, _, _, resource) in enumerate(keys):
            released = sorted(parse_marking(resource.marking)) if resource.marking else []
            uid = {"type": "Resource", "id": str(i)}
            entities.append(
                {
                    "uid": uid,
                    "attrs": {
                        "releasable_to": released,
                        "node": resource.node,
                        "nation": resource.nation,
                    },
                    "parents": [],
                }
            )
            requests.append(
                {
                    "principal": principal,
                    "action": {"type": "Action", "id": action},
                    "resource": uid,
                    "context": {},
                }
            )
        decisions = []
        for result in cedarpy.is_authorized_batch(requests, self._policies, entities):
            diagnostics = result.diagnostics
            if diagnostics.errors:
                raise RuntimeError(f"access policy evaluation failed: {diagnostics.errors}")
            names = diagnostics.id_annotations_by_reason
            ids = sorted(names.get(p, p) for p in diagnostics.reasons)
            decisions.append(Decision(result.allowed, ",".join(ids) or DEFAULT_DENY))
        return decisions
