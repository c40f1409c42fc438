"""hyperdef: an open testbed for counter-hypersonic defence research.

The kill chain is the architecture (see ``DESIGN.md``): ``core`` holds the shared
physics (frames, Earth, atmosphere, dynamics, integrators), ``threats`` flies the
hypersonic and ballistic threats, and later stages sense, track and engage them.
"""

__version__ = "0.1.0"
