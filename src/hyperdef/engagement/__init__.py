"""Engagement: interceptor guidance and miss distance.

:mod:`hyperdef.engagement.homing` holds the classical linearised homing loop (Zarchan,
*Tactical and Strategic Missile Guidance*): miss distance by forward and adjoint runs.
Its public names are re-exported here.
"""

from hyperdef.engagement.homing import *  # noqa: F403
from hyperdef.engagement.homing import __all__  # noqa: F401
