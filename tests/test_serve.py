"""`reviews serve` (issue 22, fault 5): the pages' Content-Security-Policy is sent as a
header too, the same policy the page's meta states, and the preview serves many clients
at once. A real site, a real server on 127.0.0.1, real HTTP clients; no timing asserted."""
from __future__ import annotations

import html
import re
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from publish.resources import csp
from publish.serve import make_server
from publish.site import build_site
from tests.helpers import make_store


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    store = make_store(tmp, 1)
    build_site(store, tmp / "out")
    store.close()
    srv = make_server(tmp / "out", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield tmp / "out", "http://%s:%d/" % srv.server_address[:2]
    srv.shutdown()
    srv.server_close()


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def meta_policy(page: bytes) -> str:
    (content,) = re.findall(rb'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    return html.unescape(content.decode())


def test_every_answer_carries_the_policy_its_page_states(server):
    out, base = server
    pages = ["", "index.html", "search.html", "quality.html",
             next(out.glob("reviews/*.html")).relative_to(out).as_posix()]
    policies = set()
    for path in pages:
        status, headers, body = get(base + path)
        assert status == 200, path
        assert headers["Content-Security-Policy"] == meta_policy(body), path
        policies.add(headers["Content-Security-Policy"])
    # the search page allows its inline script by hash: a policy of its own, not the default
    assert len(policies) >= 2 and csp() in policies
    for path in ("static/style.css", "no-such-page.html", ".site-manifest.json", "reviews/"):
        status, headers, _ = get(base + path)
        assert headers["Content-Security-Policy"] == csp(), path  # the site's default
        assert headers["X-Content-Type-Options"] == "nosniff", path


def test_fifty_concurrent_requests_all_succeed(server):
    out, base = server
    files = ["index.html", "search.html", "static/style.css",
             *sorted(p.relative_to(out).as_posix() for p in out.glob("reviews/*.html"))]
    wanted = [files[i % len(files)] for i in range(50)]
    start = threading.Barrier(50, timeout=60)

    def fetch(path):
        start.wait()  # all 50 connect at once
        return path, get(base + path)

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(fetch, wanted))
    assert len(results) == 50
    for path, (status, _, body) in results:
        assert status == 200 and body == (out / path).read_bytes(), path
