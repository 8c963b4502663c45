"""Where the page templates and static files are, installed or not.

In a checkout they are the top-level ``templates/`` folder; a wheel carries the same
files as package data of ``publish`` (``publish/templates``, mapped in pyproject.toml),
so that `reviews site` works from a plain ``pip install`` and not only from an editable
install of the checkout. This is the one place that knows both.
"""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find() -> Path:
    for candidate in (_HERE / "templates", _HERE.parent / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise FileNotFoundError(f"the page templates are missing (looked in {_HERE / 'templates'} "
                            f"and {_HERE.parent / 'templates'}); reinstall review-archive")


TEMPLATES = _find()
