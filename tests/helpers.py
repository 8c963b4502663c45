"""What the tests share: the sample record and its variants, a hostile record, a store
filled with real records, and the site's link checker (one home, imported by the test
modules; fixtures are in conftest.py)."""
from __future__ import annotations

import hashlib
import re
import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from archive.parser import parse
from archive.store import Store
from bench.corpus import generate

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "000_a67d181a6c549fd0.txt"
SAMPLE_UUID = "e051ad472c3d4412ba23cc0b05bfdbab"
SAMPLE_RECEIVED = "2025-11-21 19:20:13"
SAMPLE_TOPIC = "深度学习在图像识别领域的最新进展"


def variant(uuid: str | None = None, received: str | None = None, topic: str | None = None,
            replace: tuple[str, str] | None = None) -> str:
    """The sample's text with another UUID / 接收时间 / 主题 / a text replacement."""
    text = SAMPLE.read_bytes().decode("utf-8")
    if uuid:
        text = text.replace(f"UUID: {SAMPLE_UUID}", f"UUID: {uuid}", 1)
    if received:
        text = text.replace(f"接收时间: {SAMPLE_RECEIVED}", f"接收时间: {received}", 1)
    if topic:
        text = re.sub(r"^主题: .*$", f"主题: {topic}", text, count=1, flags=re.M)
    if replace:
        assert replace[0] in text
        text = text.replace(*replace, 1)
    return text


def numbered_uuid(i: int) -> str:
    return hashlib.md5(f"review-{i}".encode()).hexdigest()


def add_bytes(store: Store, data: bytes, source: str = "test.txt"):
    """Parse ``data`` and add every record it holds; the last add's result."""
    result = None
    for parsed in parse(data, source):
        result = store.add(parsed, source)
    return result


XSS_UUID = "0123456789abcdef0123456789abcdef"
XSS_RECORD = """回调数据记录
==============================
接收时间: 2025-10-01 08:00:00
主题: 攻击<script>alert(1)</script>主题<img src=x onerror=alert(2)>
UUID: 0123456789abcdef0123456789abcdef

大纲:
# 注入测试
## 1. 引言
### 1.1 背景

内容:
<think>

</think>

# 注入测试<script>alert(3)</script>
**摘要**
摘要文本<img src=x onerror=alert(4)>引用[1]。

**关键词** : 注入, 测试

<think>

</think>

### 1 引言

#### 1.1 背景

正文<script>alert(5)</script>含有<img src=x onerror="alert(6)">标记[^1]和悬空引用[^9]。

# 参考文献:

[1] 文献<script>alert(7)</script><img src=x onerror=alert(8)>标题. 2024.

对话结束
""".encode("utf-8")


def make_store(path: Path, n: int, seed: int = 7, start: int = 0) -> Store:
    """A real store holding the sample, the XSS record and ``n`` generated records
    (added in one transaction, as an ingest adds a batch: one fsync, not one an add)."""
    store = Store(path / "archive.sqlite3")
    with store.batch():
        add_bytes(store, SAMPLE.read_bytes(), SAMPLE.name)
        add_bytes(store, XSS_RECORD, "xss.txt")
        for g in generate(n, seed=seed, start=start):
            add_bytes(store, g.data, g.name)
    return store


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key) is not None and not (tag == "form"):
                self.links.append(a[key])
        if tag == "form" and a.get("action"):
            self.links.append(a["action"])


def page_links(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text("utf-8"))
    return p


def broken_links(site: Path) -> list[str]:
    """Every href/src of every page must name an existing file (and anchor).

    Paths are compared as normalised strings against one listing of the site (a built
    site holds no symlinks), not resolved link by link: a site of a few dozen reviews
    has tens of thousands of links."""
    root = os.path.normpath(site.resolve())
    files = {os.path.normpath(str(f)) for f in Path(root).rglob("*") if f.is_file()}
    pages = sorted(Path(root).rglob("*.html"))
    parsed = {str(p): page_links(p) for p in pages}
    bad = []
    for p, links in parsed.items():
        here = os.path.dirname(p)
        name = os.path.relpath(p, root)
        for link in links.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("/"):
                bad.append(f"{name}: not relative: {link}")
                continue
            target = os.path.normpath(os.path.join(here, unquote(parts.path))) if parts.path else p
            if target not in files or not target.startswith(root + os.sep):
                bad.append(f"{name}: missing {link}")
            elif parts.fragment and target.endswith(".html") and parts.fragment not in parsed[target].ids:
                bad.append(f"{name}: no anchor {link}")
    return bad


def whooshs_postings(leaf, field: str, term: bytes) -> tuple[list, list, list]:
    """``(ids, weights, values)`` of a term in one of Whoosh's segment readers, read by
    Whoosh's own matcher: what :meth:`index.reader.Segment.postings` must give."""
    m = leaf.postings(field, term)
    m = getattr(m, "child", m)  # (a segment with deletions wraps its matcher)
    m.reset()
    ids, weights, values = [], [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        values.append(m.value())
        m.next()
    return ids, weights, values


def assert_postings_are_whooshs(ours, theirs, fields, valued=()) -> int:
    """Every term of ``fields`` in our reader (:class:`index.reader.IndexReader`) and in
    Whoosh's (``theirs``): the same lexicon and frequencies and, segment by segment, the
    same postings (values for the ``valued`` fields). Returns the postings compared."""
    leaves = theirs.leaf_readers() if hasattr(theirs, "leaf_readers") else [(theirs, 0)]
    assert len(ours.leaves) == len(leaves)
    checked = 0
    for field in fields:
        lexicon = list(theirs.lexicon(field))
        assert ours.lexicon(field) == lexicon, field
        for term in lexicon:
            assert ours.doc_frequency(field, term.decode()) == theirs.doc_frequency(field, term)
            for (seg, _), (leaf, _) in zip(ours.leaves, leaves):
                mine = seg.postings(field, term, weights=True, values=True)
                if (field, term) not in leaf:
                    assert mine is None
                    continue
                ids, weights, values = whooshs_postings(leaf, field, term)
                assert mine[0] == ids and mine[1] == weights, (field, term)
                if field in valued:
                    assert mine[2] == values, (field, term)
                checked += len(ids)
    return checked
