"""Presentation of results: plots and the files a run writes.

Nothing here computes physics; it draws and writes what the stages before it produced.
Every file is written atomically (:func:`atomic_output`): to a temporary file in the
target directory, then renamed over the target, so an error never leaves a half-written
file behind.

:func:`plot_trajectory` is imported lazily so that ``import hyperdef.report`` (and the
CLI's start-up) does not pay for matplotlib unless a plot is drawn.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperdef.errors import InputError

if TYPE_CHECKING:
    from hyperdef.report.plots import plot_trajectory

__all__ = ["atomic_output", "check_output_path", "plot_trajectory"]


def check_output_path(path: str | os.PathLike[str], suffixes: Sequence[str],
                      name: str = "path") -> Path:
    """Check that a file can be written at ``path`` before any work is done.

    Parameters
    ----------
    path : str or path-like
        File to be written.
    suffixes : sequence of str
        Allowed suffixes, lower case with the dot (``(".png",)``); compared case-insensitively.
    name : str
        Name of the argument or option, used in the error message.

    Returns
    -------
    pathlib.Path
        ``path`` as a Path.

    Raises
    ------
    hyperdef.errors.InputError
        When the suffix is not allowed, the parent directory does not exist, or ``path``
        is an existing directory.
    """
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        raise InputError(f"{name}: {str(path)!r} must end in {' or '.join(suffixes)}")
    if target.is_dir():
        raise InputError(f"{name}: {str(path)!r} is a directory, expected a file")
    parent = target.parent
    if not parent.is_dir():
        raise InputError(f"{name}: directory {str(parent)!r} does not exist")
    return target


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it over ``path``.

    The temporary file lives in the same directory, so the final :func:`os.replace` is
    an atomic rename. If the body raises, the temporary file is removed and ``path`` is
    left as it was (absent, or its previous content).

    Parameters
    ----------
    path : str or path-like
        Final file. Its directory must exist.

    Yields
    ------
    pathlib.Path
        Temporary file to write (it exists, empty, when the body starts).

    Examples
    --------
    >>> with atomic_output("truth.parquet") as tmp:          # doctest: +SKIP
    ...     pyarrow.parquet.write_table(table, tmp)
    """
    target = Path(path)
    # created with O_EXCL like mkstemp, but through open() so the file gets the usual
    # umask-derived mode rather than mkstemp's 0600
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            open(tmp, "xb").close()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 32 random bits
        raise FileExistsError(f"no free temporary name next to {str(target)!r}")
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def __getattr__(name: str) -> Any:
    if name == "plot_trajectory":
        from hyperdef.report.plots import plot_trajectory

        return plot_trajectory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
