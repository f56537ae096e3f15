"""fpstat: statistics and audit toolkit for population and family-planning statistics offices.

The stages (``io`` -> ``schema`` -> ``reconcile`` -> ``indicators`` -> ``audit``) are packages
with small public APIs; ``fpstat.cli`` is a thin command-line layer on top. See
``docs/internals.md`` for the tables that pass between stages.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fpstat")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.1.0"

__all__ = ["__version__"]
