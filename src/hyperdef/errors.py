"""Errors raised by hyperdef for bad input.

Every error names the field or value at fault and says what is allowed, in one
line, so the CLI can print it as it is and exit with code 2.
"""


class HyperdefError(Exception):
    """Base class of every error hyperdef raises for bad input."""


class InputError(HyperdefError, ValueError):
    """A value given to a public function is outside what the model allows."""


class NotFoundError(InputError):
    """A named record (a stored dataset, run or user) does not exist."""


class ScenarioError(InputError):
    """A scenario file or one of its fields is invalid."""


class UnreachableError(InputError):
    """The requested aim point lies beyond what the vehicle can reach."""
