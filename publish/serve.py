"""``reviews serve``: preview the built site on 127.0.0.1 (Python's http.server)."""
from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8",
                      ".css": "text/css; charset=utf-8"}

    def log_message(self, format, *args):  # noqa: A002 - quiet preview server
        pass


def make_server(out_dir: str | Path, port: int = 8000, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server for ``out_dir`` (port 0 = any free port: see ``server.server_address``)."""
    handler = functools.partial(_Handler, directory=str(Path(out_dir)))
    return ThreadingHTTPServer((host, port), handler)


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
