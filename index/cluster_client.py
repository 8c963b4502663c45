"""A small JSON-over-HTTP client of an OpenSearch cluster, with fail-over between nodes.

``REVIEWS_OPENSEARCH=URL[,URL…]`` names the nodes; ``REVIEWS_OPENSEARCH_INDEX`` the
index (default ``reviews``). A request goes to the node that answered last; when a node
cannot be reached (refused, reset, timed out) the next one is tried, so a search answers
while a node is down. When none answers, :class:`Unreachable` names every URL tried and
why, and the CLI prints it as one line with its own exit code.

Why not opensearch-py: importing it (requests, urllib3, asyncio, gRPC protobufs) costs
every command more than a search takes; the archive speaks to six
endpoints (``_bulk``, ``_search``, ``_mget``, ``_doc``, ``_count``, index admin), all
JSON, for which ``http.client`` and ``json`` are enough. Bodies are always built as
Python values and serialised by :func:`json.dumps`: never by string concatenation, so
a query holding ``"``, ``\\``, ``{}`` or Lucene syntax stays literal.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from archive.errors import BUSY, FAILED, ArchiveError, Unreachable

ENV_URLS = "REVIEWS_OPENSEARCH"
ENV_INDEX = "REVIEWS_OPENSEARCH_INDEX"
DEFAULT_INDEX = "reviews"
TIMEOUT = float(os.environ.get("REVIEWS_OPENSEARCH_TIMEOUT", "60"))


class ClusterError(ArchiveError):
    """The cluster answered with an error (``status`` and OpenSearch's reason): busy
    (429, 503: it cannot take the request now) or another failure."""

    def __init__(self, message: str, status: int = 0, body: object = None):
        super().__init__(message)
        self.status, self.body = status, body
        self.exit_code = BUSY if status in (429, 503) else FAILED


__all__ = ["Client", "ClusterError", "Target", "Unreachable", "configured"]


@dataclass(frozen=True)
class Target:
    """Where the cluster index lives: its node URLs and the index name."""

    urls: tuple[str, ...]
    index: str
    auth: tuple[tuple[str, str], ...] = ()  # (url, "Basic …") for URLs that carried user:password@

    def header(self, url: str) -> dict[str, str]:
        return {"Authorization": a for u, a in self.auth if u == url}

    @property
    def label(self) -> str:
        return f"{','.join(self.urls)} (index {self.index})"


def configured() -> Target | None:
    """The cluster the environment names, or None: the embedded index is used."""
    raw = os.environ.get(ENV_URLS, "").strip()
    if not raw:
        return None
    urls, auth = [], []
    for part in raw.split(","):
        part = part.strip().rstrip("/")
        if not part:
            continue
        split = urlsplit(part if "://" in part else f"http://{part}")
        try:
            port = split.port
        except ValueError:
            port = -1
        if split.scheme not in ("http", "https") or not split.hostname or port == -1:
            shown = part.split("@")[-1]  # (never echo a password)
            raise ArchiveError(f"{ENV_URLS}: {shown!r} is not a URL such as http://127.0.0.1:9200")
        host = f"[{split.hostname}]" if ":" in split.hostname else split.hostname
        url = f"{split.scheme}://{host}" + (f":{port}" if port else "")
        urls.append(url)
        if split.username is not None:  # user:password@host: HTTP basic authentication
            import base64
            from urllib.parse import unquote

            pair = f"{unquote(split.username)}:{unquote(split.password or '')}".encode("utf-8")
            auth.append((url, "Basic " + base64.b64encode(pair).decode("ascii")))
    if not urls:
        return None
    index = os.environ.get(ENV_INDEX, "").strip() or DEFAULT_INDEX
    if index != index.lower() or any(c in index for c in ' "*\\<|,>/?#:') or index[0] in "-_+.":
        raise ArchiveError(f"{ENV_INDEX}: {index!r} is not a valid OpenSearch index name "
                           "(lowercase, no spaces or \\/*?\"<>|,#:)")
    return Target(tuple(urls), index, tuple(auth))


class Client:
    """Requests to the first node that answers (the last good one first)."""

    def __init__(self, target: Target, timeout: float = TIMEOUT):
        self.target, self.timeout = target, timeout
        self._good = 0
        self._conns: dict[str, http.client.HTTPConnection] = {}

    def close(self) -> None:
        for c in self._conns.values():
            c.close()
        self._conns.clear()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _conn(self, url: str) -> http.client.HTTPConnection:
        c = self._conns.get(url)
        if c is None:
            split = urlsplit(url)
            cls = http.client.HTTPSConnection if split.scheme == "https" else http.client.HTTPConnection
            c = self._conns[url] = cls(split.hostname, split.port, timeout=self.timeout)
        return c

    def request(self, method: str, path: str, body: object = None, *, ndjson: list | None = None,
                ok: tuple[int, ...] = (200, 201), params: dict | None = None):
        """Send a request (``body`` as JSON, or ``ndjson`` lines), return the decoded
        answer. Any status outside ``ok`` raises :class:`ClusterError`; no node
        answering raises :class:`Unreachable`."""
        if params:
            path += "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
        if ndjson is not None:
            data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in ndjson).encode("utf-8")
            ctype = "application/x-ndjson"
        else:
            data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
            ctype = "application/json"
        base = {"Content-Type": ctype} if data is not None else {}
        urls = self.target.urls
        failures = []
        for k in range(len(urls)):
            i = (self._good + k) % len(urls)
            url = urls[i]
            for attempt in (1, 2):  # a kept-alive connection the node closed: once more afresh
                conn = self._conn(url)
                try:
                    conn.request(method, path, body=data, headers={**base, **self.target.header(url)})
                    resp = conn.getresponse()
                    raw = resp.read()
                except (OSError, http.client.HTTPException) as err:
                    conn.close()
                    self._conns.pop(url, None)
                    stale = isinstance(err, (http.client.RemoteDisconnected, BrokenPipeError,
                                             ConnectionResetError)) and attempt == 1
                    if stale:
                        continue
                    failures.append(f"{url}: {_why(err)}")
                    break
                self._good = i
                return _answer(resp.status, raw, method, path, ok)
        raise Unreachable("cannot reach the OpenSearch cluster: " + "; ".join(failures)
                          + f" (set by {ENV_URLS}; start one with `make cluster`, or unset "
                          "it to use the embedded index)")

    def retrying(self, method: str, path: str, body: object = None, *, tries: int = 6, **kw):
        """:meth:`request`, tried again with a growing pause while the cluster answers
        that it cannot serve it yet (429, 503: a node just died and its shards are being
        promoted elsewhere). No node reachable is tried once more only: a cluster that
        is down is said within a second, not after every pause."""
        for n in range(tries):
            try:
                return self.request(method, path, body, **kw)
            except (Unreachable, ClusterError) as err:
                if isinstance(err, ClusterError) and err.status not in (429, 502, 503, 504):
                    raise
                if n == tries - 1 or (isinstance(err, Unreachable) and n >= 1):
                    raise
                time.sleep(min(8.0, 0.5 * 2 ** n))


def _why(err: BaseException) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(err, socket.gaierror):
        return "unknown host"
    return getattr(err, "strerror", None) or type(err).__name__


def _answer(status: int, raw: bytes, method: str, path: str, ok: tuple[int, ...]):
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode("utf-8", "replace")
    if status in ok:
        return decoded
    reason = decoded
    if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
        e = decoded["error"]
        root = (e.get("root_cause") or [e])[0]
        reason = f"{root.get('type')}: {root.get('reason')}"
    elif isinstance(decoded, dict) and "error" in decoded:
        reason = decoded["error"]
    raise ClusterError(f"the OpenSearch cluster refused {method} {path.split('?')[0]}: "
                       f"HTTP {status}, {reason}", status, decoded)
