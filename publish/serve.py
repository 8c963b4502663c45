"""``reviews serve``: preview the built site on 127.0.0.1 (Python's http.server).

Only the site's files are served: no directory listings (a folder without index.html
is 404), nothing under a name starting with a dot (the build's manifest and cache), and
a malformed path (``/%00``) is a 400, never a traceback. Every answer carries
``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
``X-Frame-Options: DENY`` and a ``Content-Security-Policy`` header: for a page, the policy
its own ``<meta>`` states (the template writes it, with the page's inline-script
hashes; the header makes it hold for what a meta tag cannot cover, and the two never
disagree), for anything else the site's default policy (``resources.csp()``, which the
template's meta defaults to).

A preview is opened by a browser, which fetches a page's scripts, styles and search
files in parallel, or by a link checker with dozens of connections: each request has a
thread of its own, and the listen queue holds 1024 connections (the kernel caps it at
net.core.somaxconn). A connection that finds the queue full is dropped, and its client
sends its SYN again only a second or more later: with http.server's default of 5, or
even 128, a burst of parallel clients stalls (bench/serve.py, docs/benchmarks.md).
"""
from __future__ import annotations

import errno
import functools
import html
import os
import re
import sys
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from archive.errors import Busy, Usage
from publish.resources import csp

#: The policy a page states, as base.html writes it.
_META_CSP = re.compile(rb'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', re.I)
_HEAD_BYTES = 4096  # the meta stands in the head, near the top


def page_policy(path: str | Path) -> str | None:
    """The Content-Security-Policy a built page states in its ``<meta>``, or None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError:
        return None
    m = _META_CSP.search(head)
    return html.unescape(m.group(1).decode("utf-8", "replace")) if m else None


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8",
                      ".css": "text/css; charset=utf-8"}
    HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
               "X-Frame-Options": "DENY"}
    DEFAULT_POLICY = csp()

    def log_message(self, format, *args):  # noqa: A002 - quiet preview server
        pass

    def end_headers(self):
        for name, value in self.HEADERS.items():
            self.send_header(name, value)
        self.send_header("Content-Security-Policy", getattr(self, "_policy", None) or self.DEFAULT_POLICY)
        super().end_headers()

    def send_head(self):
        self._policy = None  # (one handler serves one request; set per request anyway)
        path = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if "\0" in path or any(c < " " for c in path):
            self.send_error(400, "Bad path")
            return None
        if any(part.startswith(".") for part in path.split("/") if part):
            self.send_error(404, "File not found")
            return None
        local = self.translate_path(self.path)
        if os.path.isdir(local):
            local = os.path.join(local, "index.html")
        if local.endswith(".html"):
            self._policy = page_policy(local)
        return super().send_head()

    def list_directory(self, path):  # a folder without index.html: not a listing
        self.send_error(404, "File not found")
        return None


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True  # Ctrl+C does not wait for a client that keeps its connection

    def handle_error(self, request, client_address):  # one line, not a traceback
        print(f"reviews serve: a request from {client_address[0]} failed: {sys.exc_info()[1]}",
              file=sys.stderr)


def make_server(out_dir: str | Path, port: int = 8000, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server for ``out_dir`` (port 0 = any free port: see ``server.server_address``)."""
    handler = functools.partial(_Handler, directory=str(Path(out_dir)))
    try:
        return _Server((host, port), handler)
    except OSError as err:
        if err.errno != errno.EADDRINUSE:
            raise
        raise Busy(f"port {port} on {host} is in use by another program; choose another "
                   "with --port") from None


def serve(out_dir: str | Path, port: int = 8000, host: str = "127.0.0.1",
          on_ready=None) -> None:
    """Serve until interrupted; ``on_ready(url)`` is called once listening."""
    if not (Path(out_dir) / "index.html").is_file():
        raise Usage(f"{out_dir} holds no built site (run `reviews site {out_dir}` first)")
    server = make_server(out_dir, port, host)
    h, p = server.server_address[:2]
    if on_ready:
        on_ready(f"http://{h}:{p}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
