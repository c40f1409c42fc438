"""Engagement: interceptor guidance and miss distance.

:mod:`hyperdef.engagement.homing` holds the classical linearised homing loop (Zarchan,
*Tactical and Strategic Missile Guidance*): miss distance by forward and adjoint runs.
"""

from hyperdef.engagement.homing import (
    DEFAULT_DT_S,
    G0_M_S2,
    GUIDANCE_LAWS,
    HomingHistory,
    HomingLoop,
    acceleration_history,
    miss_adjoint,
    miss_forward,
    optimal_nav_ratio,
)

__all__ = [
    "DEFAULT_DT_S",
    "G0_M_S2",
    "GUIDANCE_LAWS",
    "HomingHistory",
    "HomingLoop",
    "acceleration_history",
    "miss_adjoint",
    "miss_forward",
    "optimal_nav_ratio",
]
