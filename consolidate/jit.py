"""``njit``: numba's ``njit`` with its disk cache, and the package's shipped cache put first.

The wheel carries numba's cache of every kernel in the package's ``__pycache__`` folders
(``setup.py`` compiles them at build, :mod:`consolidate.warmup`). Numba looks there only when
``NUMBA_CACHE_DIR`` is unset; :class:`ShippedCacheLocator`, registered ahead of numba's own
locators, uses the shipped cache of a kernel whenever it holds that kernel's index, so that a
cluster or a user with ``NUMBA_CACHE_DIR`` set does not compile again what the install
compiled. A kernel without a shipped index falls through to numba's usual locators. Kernel
modules decorate with :func:`njit` from here, so the locator is in place before any kernel.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numba
from numba.core import caching

# The compile-time listener must hear every kernel's compilation, the first included.
from consolidate.solvers import clock  # noqa: F401

_PACKAGE = Path(__file__).resolve().parent
# Numba 0.59-0.6x name these with a leading underscore.
_IN_TREE = getattr(caching, "InTreeCacheLocator", None) or caching._InTreeCacheLocator
_IMPL = getattr(caching, "CacheImpl", None) or caching._CacheImpl


class ShippedCacheLocator(_IN_TREE):
    """The ``__pycache__`` beside a kernel of this package, when it holds the kernel's index."""

    @classmethod
    def from_function(cls, py_func, py_file):
        path = Path(py_file).resolve()
        if _PACKAGE not in path.parents:
            return None
        name = f"{path.stem}.{py_func.__qualname__}-{py_func.__code__.co_firstlineno}.py{sys.version_info[0]}{sys.version_info[1]}"
        if not any((path.parent / "__pycache__").glob(f"{name}*.nbi")):
            return None
        return super().from_function(py_func, py_file)


if ShippedCacheLocator not in _IMPL._locator_classes:
    _IMPL._locator_classes.insert(0, ShippedCacheLocator)

#: numba.njit with the disk cache on: every kernel of the package is decorated with this.
njit = functools.partial(numba.njit, cache=True)
