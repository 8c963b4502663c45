"""What keeps a command's start quick: the modules a command may never use are
imported when it first does. ``cli.py`` calls :func:`light_whoosh` before anything
imports Whoosh."""
from __future__ import annotations

import importlib
import sys
import types
from functools import cached_property as _cached_property


def light_whoosh() -> None:
    """Two imports Whoosh makes at start-up and a search never uses, deferred in this
    process only (not in the library), a cost every command would pay:

    * the ``cached_property`` backport, for one decorator; it imports asyncio. Whoosh
      gets the standard library's decorator, which caches the same way (in the
      instance's ``__dict__``);
    * ``urllib.request`` (with http.client and email), for ``urlretrieve`` in
      ``whoosh.compat``. It gets a stand-in that imports the real module, and
      becomes it, the first time anything uses it.
    """
    if "cached_property" not in sys.modules:
        stand_in = types.ModuleType("cached_property")
        stand_in.cached_property = _cached_property  # type: ignore[attr-defined]
        sys.modules["cached_property"] = stand_in
    if "urllib.request" not in sys.modules:
        import urllib

        def real():
            del sys.modules["urllib.request"]
            module = importlib.import_module("urllib.request")
            urllib.request = module  # type: ignore[attr-defined]
            return module

        later = types.ModuleType("urllib.request")
        later.urlretrieve = lambda *a, **k: real().urlretrieve(*a, **k)  # type: ignore[attr-defined]
        def attribute(name):  # the import system probes __path__ & co.: those stay absent
            if name.startswith("__"):
                raise AttributeError(name)
            return getattr(real(), name)

        later.__getattr__ = attribute  # type: ignore[attr-defined]
        sys.modules["urllib.request"] = later
        urllib.request = later  # type: ignore[attr-defined]


class OnFirstUse:
    """A module imported when a command first uses it, so that `reviews search` does
    not pay for the listing and reporting code it never calls."""

    def __init__(self, name: str):
        self._name, self._module = name, None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)
