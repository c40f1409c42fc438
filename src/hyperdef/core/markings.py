"""Coalition nodes and releasability markings.

A node is the nation that operates a sensor, tracker or battery, named by its
ISO 3166-1 alpha-3 code. Every detection and track carries a marking in the
coalition convention ``REL TO USA, JPN``: the trigraphs of the nations the data may be
released to, USA first and the others in alphabetical order (the US "REL TO" banner
order of the Intelligence Community Authorized Classification and Control Markings
Register, applied here to unclassified research data). A product fused from several
inputs is releasable only to the nations every input is releasable to.

References
----------
ISO 3166-1:2020, Codes for the representation of names of countries, alpha-3 codes.
ODNI, Intelligence Community Authorized Classification and Control Markings Register
and Manual, "REL TO" dissemination control (trigraph order: USA first, then alphabetical).
"""

from __future__ import annotations

from collections.abc import Iterable

from hyperdef.errors import InputError

#: ISO 3166-1 alpha-3 codes of the nations a coalition node may belong to: the
#: US-Japan pair, the Five Eyes, the other Indo-Pacific partners, and NATO members.
NODES: frozenset[str] = frozenset(
    """USA JPN AUS CAN GBR NZL KOR PHL SGP IND
    ALB BEL BGR HRV CZE DNK EST FIN FRA DEU GRC HUN ISL ITA LVA LTU LUX MNE NLD MKD
    NOR POL PRT ROU SVK SVN ESP SWE TUR""".split()
)

_PREFIX = "REL TO "


def check_node(node: str, field: str = "node") -> str:
    """Return ``node`` if it is a known coalition node, else raise :class:`InputError`."""
    if not isinstance(node, str) or node not in NODES:
        allowed = ", ".join(sorted(NODES))
        raise InputError(f"{field}: unknown node {node!r}; allowed ISO 3166 trigraphs: {allowed}")
    return node


def format_marking(nodes: Iterable[str], field: str = "marking") -> str:
    """Marking string for a set of nations: ``REL TO USA, JPN`` (USA first, then A-Z).

    Raises
    ------
    InputError
        If the set is empty or names an unknown node.
    """
    unique = {check_node(n, field) for n in nodes}
    if not unique:
        raise InputError(f"{field}: a marking must release to at least one nation")
    ordered = (["USA"] if "USA" in unique else []) + sorted(unique - {"USA"})
    return _PREFIX + ", ".join(ordered)


def parse_marking(marking: str, field: str = "marking") -> frozenset[str]:
    """Nations a marking releases to.

    Accepts the canonical form and tolerates any order or spacing of the trigraphs;
    ``format_marking(parse_marking(m))`` gives the canonical form.
    """
    if not isinstance(marking, str) or not marking.upper().startswith(_PREFIX):
        raise InputError(f"{field}: {marking!r} is not a marking like 'REL TO USA, JPN'")
    body = marking[len(_PREFIX) :]
    nodes = [part.strip().upper() for part in body.split(",") if part.strip()]
    if not nodes:
        raise InputError(f"{field}: {marking!r} releases to no nation")
    return frozenset(check_node(n, field) for n in nodes)


def intersect_markings(markings: Iterable[str]) -> str | None:
    """Marking of a product fused from inputs with these markings.

    Returns the canonical marking of the nations common to every input, or ``None``
    when no nation may receive all of them (the product cannot be released as one).
    """
    common: frozenset[str] | None = None
    for marking in markings:
        nodes = parse_marking(marking)
        common = nodes if common is None else common & nodes
    if not common:
        return None
    return format_marking(common)
