"""The shared ISR analysis store: SQLite by default, PostgreSQL for teams.

Datasets of detections and tracks read by :mod:`hyperdef.io` (or made by the simulator),
tracking runs over them, users with API keys, releasability access control with Cedar
policies (``policies.cedar``), and a hash-chained audit log of every read, write and
denial. Ingest is idempotent: each record is stored once per content hash.

>>> from hyperdef.store import Store
>>> with Store.open("sqlite://") as store:              # in memory
...     admin, key = store.add_user("ops", "USA", "admin")
...     store.user_for_key(key) == admin
True
"""

from hyperdef.store.access import AccessDenied, User
from hyperdef.store.audit import AuditCheck
from hyperdef.store.store import IngestSummary, Store

__all__ = ["AccessDenied", "AuditCheck", "IngestSummary", "Store", "User"]
