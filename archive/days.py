"""One reading of a day given by a user (``--since``, ``--until``, ``since:``, ``until:``).

A day is written ``YYYY-MM-DD`` and must exist. Python's ``date.fromisoformat`` alone
also takes ``20251101`` (since 3.11), which the rest of the archive (received dates
compared as text) would then misread: every option and query field goes through here.
"""
from __future__ import annotations

import datetime as _dt
import re

from .errors import Usage

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(name: str, value: str | None) -> str | None:
    """``value`` if it is a day ``YYYY-MM-DD`` (None stays None); else ``errors.Usage``
    naming ``name`` (``--since``, ``since``) and the value."""
    if value is None:
        return None
    ok = bool(_DAY.match(value))
    if ok:
        try:
            _dt.date.fromisoformat(value)
        except ValueError:
            ok = False
    if not ok:
        raise Usage(f"{name} {value!r}: expected a date YYYY-MM-DD")
    return value
