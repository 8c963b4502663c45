"""Where the page templates and static files are, installed or not, and the one Jinja2
environment that renders them (autoescaped), with the pages' Content-Security-Policy.

In a checkout they are the top-level ``templates/`` folder; a wheel carries the same
files as package data of ``publish`` (``publish/templates``, mapped in pyproject.toml),
so that `reviews site` works from a plain ``pip install`` and not only from an editable
install of the checkout. This is the one place that knows both.
"""
from __future__ import annotations

import base64
import functools
import hashlib
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from . import urls

_HERE = Path(__file__).resolve().parent


def _find() -> Path:
    for candidate in (_HERE / "templates", _HERE.parent / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise FileNotFoundError(f"the page templates are missing (looked in {_HERE / 'templates'} "
                            f"and {_HERE.parent / 'templates'}); reinstall review-archive")


TEMPLATES = _find()


@functools.cache
def make_env() -> Environment:
    """The pages' jinja2 environment, one per process: its templates are compiled once
    and kept (jinja2 still reloads one whose file changed), not again for every build,
    a worker's partition and the reference pages' workers; nothing changes it after this."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      undefined=StrictUndefined, keep_trailing_newline=True)
    env.globals["U"] = urls
    env.globals["DEFAULT_CSP"] = csp()
    return env


#: The pages' Content-Security-Policy (a <meta>, so that it holds on any static host and
#: from disk): scripts and styles from the site itself only, no plugins, no <base>, forms
#: only to the site. ``file:`` is listed for pages opened from disk, where Chromium does
#: not count other files as 'self'.
CSP = ("default-src 'self' file:; script-src 'self' file:{hashes}; style-src 'self' file:; "
       "img-src 'self' file: data:; object-src 'none'; base-uri 'none'; form-action 'self' file:")


def csp(inline_scripts: list[str] = ()) -> str:
    """The policy, allowing exactly these inline scripts (by their SHA-256)."""
    hashes = "".join(" 'sha256-%s'" % base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode()
                     for s in inline_scripts)
    return CSP.format(hashes=hashes)
