"""Every link of the site: site-root paths for things, made relative to the page.

File names come from ids we compute (UUIDs, reference ids, hashed topic slugs), never
from record text, so a topic such as ``../x`` cannot become a path.  Links are always
relative and always name the file (``index.html``), so the site works from any
sub-path of a static host and when opened from disk (file://).
"""
from __future__ import annotations

import functools
import hashlib
import posixpath
import re

from archive.export import FORMATS, MEDIA_TYPES  # noqa: F401 (MEDIA_TYPES: for the templates)
from archive.references import REF_ID

_UUID = re.compile(r"^[0-9a-f]{32}$")

HOME = "index.html"
SEARCH = "search.html"
QUALITY = "quality.html"
DUPES = "dupes.html"
TOPICS = "topics/index.html"
REFS = "refs/index.html"
STATIC = "static/"


def topic_slug(topic: str) -> str:
    return "t" + hashlib.sha1(topic.encode("utf-8")).hexdigest()[:10]


def review(uuid: str, anchor: str = "") -> str:
    if not _UUID.match(uuid):
        raise ValueError(f"not a review uuid: {uuid!r}")
    return f"reviews/{uuid}.html" + (f"#{anchor}" if anchor else "")


def ref(ref_id: str) -> str:
    if not REF_ID.match(ref_id):
        raise ValueError(f"not a reference id: {ref_id!r}")
    return f"refs/{ref_id}.html"


def review_files(uuid: str) -> list[str]:
    """Every file the site holds for a review: its page (its downloads are made in the
    browser from the works the page carries: ``static/export.js``)."""
    return [review(uuid)]


def ref_export(ref_id: str, fmt: str) -> str:
    """One work in an export format, beside its page."""
    return ref(ref_id)[: -len(".html")] + FORMATS[fmt]


def topic(name: str) -> str:
    return f"topics/{topic_slug(name)}.html"


def by_date(page: int = 1) -> str:
    return "dates/index.html" if page <= 1 else f"dates/p{page}.html"


def refs_page(page: int = 1) -> str:
    return REFS if page <= 1 else f"refs/p{page}.html"


def static(name: str) -> str:
    return STATIC + name


def section_anchor(number: str) -> str:
    """Stable anchor of a section: ``s-3.1.2``; ``abstract``; ``references``."""
    if number in ("abstract", "references"):
        return number
    return "s-" + number


def ref_anchor(scope: str, n: int) -> str:
    return f"ref-{scope}-{n}" if scope else f"ref-{n}"


def relative(from_page: str, target: str) -> str:
    """``target`` (a site-root path, maybe with ``#anchor``) as seen from ``from_page``."""
    path, _, anchor = target.partition("#")
    if path == from_page and anchor:
        return "#" + anchor
    return _relpath(path, posixpath.dirname(from_page) or ".") + (f"#{anchor}" if anchor else "")


@functools.lru_cache(maxsize=1 << 16)
def _relpath(path: str, base: str) -> str:
    rel = posixpath.relpath(path, base)
    return rel + "/" if path.endswith("/") else rel


class Linker:
    """Bound to one page: ``url(review(u))`` gives the link from that page."""

    def __init__(self, page: str):
        self.page = page

    def __call__(self, target: str) -> str:
        return relative(self.page, target)
