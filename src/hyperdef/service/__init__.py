"""HTTP API and command-line front ends of the shared analysis store (DESIGN.md).

:func:`create_app` builds the FastAPI application over an open
:class:`hyperdef.store.Store`; :mod:`hyperdef.service.cli` adds the ``ingest``,
``export``, ``users``, ``audit`` and ``serve`` commands to ``hyperdef``. Both are thin
layers: decoding lives in :mod:`hyperdef.io`, access control and audit in
:mod:`hyperdef.store`, tracking in :mod:`hyperdef.tracking`.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):
    # lazy, so `import hyperdef.service.cli` does not pull in FastAPI
    if name == "create_app":
        from hyperdef.service.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
