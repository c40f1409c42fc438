"""Registry of the external formats: sniffing, reading and writing files by format name.

The CLI and the HTTP API go through this module: :func:`detect_format` recognises a
format from the first bytes, :func:`read_file` dispatches to the format's reader and
:func:`write_file` to its writer, importing the format module only when it is used
(``hyperdef.io.<format>.read_<format>`` / ``write_<format>``).

Sniffing rules (:func:`detect_format`, tried in this order)
    ``klv``      the 16-byte MISB ST 0601 UAS Datalink Local Set universal key
                 ``06 0E 2B 34 02 0B 01 01 0E 01 03 01 01 00 00 00`` at offset 0;
    ``gmti``     a STANAG 4607 packet header: version ID ``"30"`` or ``"31"`` (ASCII) in
                 the first two bytes and a packet size (4 octets, big-endian, at offset
                 2) of at least the 32-octet header;
    ``cot``      XML (after white space and a UTF-8 byte order mark, the first byte is
                 ``<``) containing an ``<event`` element in its first 64 KiB;
    ``asterix``  first octet a category read here (48, 62), a first data block longer
                 than its 3-octet header and within the data, and a chain of data blocks
                 (category, 16-bit length >= 3; later blocks of any category) ending at
                 the end of the data or in a truncated block (first 1000 blocks checked).

References
----------
MISB ST 0601 (UAS Datalink Local Set), universal key; NATO STANAG 4607 / AEDP-7 edition 3,
packet header (version ID, packet size); MITRE Cursor-on-Target event schema 2.0;
EUROCONTROL ASTERIX Part 1 (data block: CAT, LEN, records).
"""

from __future__ import annotations

import importlib
import os
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from hyperdef.errors import InputError
from hyperdef.io import IngestResult

__all__ = ["FORMATS", "detect_format", "read_file", "write_file"]

#: format names, in sniffing order
FORMATS: tuple[str, ...] = ("klv", "gmti", "cot", "asterix")

KLV_UAS_LS_KEY = bytes.fromhex("060E2B34020B01010E01030101000000")
GMTI_VERSIONS = (b"30", b"31")
GMTI_HEADER_SIZE = 32
ASTERIX_CATEGORIES = (48, 62)
_COT_WINDOW = 65536
_ASTERIX_MAX_BLOCKS = 1000


def _check_format(format: str, allow_auto: bool) -> str:
    allowed = (("auto",) if allow_auto else ()) + FORMATS
    if not isinstance(format, str) or format not in allowed:
        raise InputError(f"format: {format!r} is not one of {', '.join(allowed)}")
    return format


def _is_klv(data: bytes) -> bool:
    return data[:16] == KLV_UAS_LS_KEY


def _is_gmti(data: bytes) -> bool:
    if len(data) < 6 or data[:2] not in GMTI_VERSIONS:
        return False
    return int.from_bytes(data[2:6], "big") >= GMTI_HEADER_SIZE


def _is_cot(data: bytes) -> bool:
    head = data[:_COT_WINDOW]
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return text[:1] == b"<" and b"<event" in text


def _is_asterix(data: bytes) -> bool:
    n = len(data)
    if n < 3 or data[0] not in ASTERIX_CATEGORIES:
        return False
    first = int.from_bytes(data[1:3], "big")
    if first <= 3 or first > n:
        return False
    offset = 0
    for _ in range(_ASTERIX_MAX_BLOCKS):
        if n - offset < 3:
            return True  # the end, or a truncated tail the reader counts
        length = int.from_bytes(data[offset + 1 : offset + 3], "big")
        if length < 3:
            return False
        if offset + length > n:
            return True  # a truncated last block: the reader counts it
        offset += length
    return True


_SNIFFERS = {"klv": _is_klv, "gmti": _is_gmti, "cot": _is_cot, "asterix": _is_asterix}


def detect_format(data: bytes) -> str:
    """Name of the format of ``data`` from its first bytes (module notes).

    Parameters
    ----------
    data : bytes
        Start of a file or stream (the whole of it for ``asterix``, whose block chain
        is checked).

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    InputError
        If ``data`` is not bytes or matches no format (the message lists them).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(f"data: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    for name in FORMATS:
        if _SNIFFERS[name](data):
            return name
    raise InputError(
        f"data: format not recognised; known formats: {', '.join(FORMATS)} "
        "(pass format= to choose one)"
    )


def _codec(format: str, verb: str):
    module = importlib.import_module(f"hyperdef.io.{format}")
    return getattr(module, f"{verb}_{format}")


def read_file(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    marking: str | None = None,
    node: str | None = None,
    epoch: datetime | None = None,
    sites: Any = None,
) -> IngestResult:
    """Read a file of one of :data:`FORMATS` into Detections/Tracks tables.

    Parameters
    ----------
    path : str or path-like
        File to read.
    format : str, optional
        One of :data:`FORMATS`, or ``"auto"`` (default) to sniff it
        (:func:`detect_format`).
    marking, node, epoch
        Passed to the reader (see each reader; ASTERIX requires ``marking`` and
        ``node``).
    sites : mapping, optional
        Radar sites by (SAC, SIC) for ASTERIX CAT 048; ignored by other formats.

    Returns
    -------
    IngestResult

    Raises
    ------
    InputError
        For an unknown ``format`` (naming the allowed values), a ``path`` that cannot
        be read, an unrecognised format with ``"auto"``, or the reader's argument errors.
    """
    _check_format(format, allow_auto=True)
    try:
        data = Path(path).read_bytes()
    except (OSError, TypeError) as exc:
        raise InputError(f"path: cannot read {str(path)!r}: {exc}") from None
    name = detect_format(data) if format == "auto" else format
    reader = _codec(name, "read")
    kwargs: dict[str, Any] = {"marking": marking, "node": node, "epoch": epoch}
    if name == "asterix":
        kwargs["sites"] = sites
    return reader(data, **kwargs)


def write_file(
    table: pa.Table, path: str | os.PathLike[str], format: str, epoch: datetime
) -> Counter:
    """Write a Detections or Tracks table to ``path`` in ``format``, atomically.

    The writer encodes everything in memory first; the file is then written to a
    temporary name in the same directory and renamed, so an error leaves no
    half-written file (and an existing file as it was).

    Parameters
    ----------
    table : pyarrow.Table
        Detections or Tracks table.
    path : str or path-like
        File to write; its directory must exist.
    format : str
        One of :data:`FORMATS`.
    epoch : datetime
        Timezone-aware UTC instant the table's ``t`` counts from.

    Returns
    -------
    collections.Counter
        The writer's counts (``written`` and rows left out by reason).

    Raises
    ------
    InputError
        For an unknown ``format`` (naming the allowed values), a ``path`` whose
        directory does not exist or that is a directory, or the writer's argument errors.
    """
    from hyperdef.report import atomic_output

    _check_format(format, allow_auto=False)
    try:
        target = Path(path)
    except TypeError:
        raise InputError(f"path: expected a file path, got {path!r}") from None
    if target.is_dir():
        raise InputError(f"path: {str(path)!r} is a directory, expected a file")
    if not target.parent.is_dir():
        raise InputError(f"path: directory {str(target.parent)!r} does not exist")
    data, counts = _codec(format, "write")(table, epoch)
    with atomic_output(target) as tmp:
        tmp.write_bytes(data)
    return counts
