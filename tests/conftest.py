"""Test-suite settings shared by every tier.

Hypothesis runs deterministically (``derandomize``) and without per-example deadlines, so a
slow or loaded CI machine cannot make a property test flaky; tests that need other settings
still set them with ``@settings``.
"""

from hypothesis import settings

settings.register_profile("hyperdef", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("hyperdef")
