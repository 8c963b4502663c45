"""``reviews serve``: preview the built site on 127.0.0.1 (Python's http.server).

Only the site's files are served: no directory listings (a folder without index.html
is 404), nothing under a name starting with a dot (the build's manifest and cache), and
a malformed path (``/%00``) is a 400, never a traceback. Every answer carries
``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
``X-Frame-Options: DENY``.
"""
from __future__ import annotations

import functools
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8",
                      ".css": "text/css; charset=utf-8"}
    HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
               "X-Frame-Options": "DENY"}

    def log_message(self, format, *args):  # noqa: A002 - quiet preview server
        pass

    def end_headers(self):
        for name, value in self.HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def send_head(self):
        path = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if "\0" in path or any(c < " " for c in path):
            self.send_error(400, "Bad path")
            return None
        if any(part.startswith(".") for part in path.split("/") if part):
            self.send_error(404, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path):  # a folder without index.html: not a listing
        self.send_error(404, "File not found")
        return None


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # one line, not a traceback
        import sys

        print(f"reviews serve: a request from {client_address[0]} failed: {sys.exc_info()[1]}",
              file=sys.stderr)


def make_server(out_dir: str | Path, port: int = 8000, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server for ``out_dir`` (port 0 = any free port: see ``server.server_address``)."""
    handler = functools.partial(_Handler, directory=str(Path(out_dir)))
    return _Server((host, port), handler)


def serve(out_dir: str | Path, port: int = 8000, host: str = "127.0.0.1",
          on_ready=None) -> None:
    """Serve until interrupted; ``on_ready(url)`` is called once listening."""
    if not (Path(out_dir) / "index.html").is_file():
        raise FileNotFoundError(f"{out_dir} holds no built site (run `reviews site {out_dir}` first)")
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
