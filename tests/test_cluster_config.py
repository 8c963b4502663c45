"""Choosing the engine and talking to a cluster that is not there (no cluster needed).

``REVIEWS_OPENSEARCH`` unset keeps the embedded index; set, it names the nodes. A
cluster that cannot be reached is named, with exit code 6 and no traceback, while
``ingest`` still stores the records.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from archive.errors import ArchiveError
from index.cluster_client import Client, Target, Unreachable, configured
from index.cluster_doc import cluster_document, external_version, mapping
from index.engine import Cluster, Embedded, engine_for
from tests.helpers import ROOT, SAMPLE, SAMPLE_UUID


def test_unset_keeps_the_embedded_index(monkeypatch, tmp_path):
    monkeypatch.delenv("REVIEWS_OPENSEARCH", raising=False)
    assert configured() is None
    assert isinstance(engine_for(tmp_path), Embedded)


def test_urls_index_and_credentials(monkeypatch, tmp_path):
    monkeypatch.setenv("REVIEWS_OPENSEARCH", " https://u%40x:p%3Aw@h.example:9200/, 127.0.0.1:9201 ,")
    monkeypatch.delenv("REVIEWS_OPENSEARCH_INDEX", raising=False)
    t = configured()
    assert t.urls == ("https://h.example:9200", "http://127.0.0.1:9201") and t.index == "reviews"
    assert t.header("https://h.example:9200") == {"Authorization": "Basic dUB4OnA6dw=="}
    assert t.header("http://127.0.0.1:9201") == {} and "p:w" not in t.label
    eng = engine_for(tmp_path)
    assert isinstance(eng, Cluster)
    eng.close()
    monkeypatch.setenv("REVIEWS_OPENSEARCH_INDEX", "Bad Name")
    with pytest.raises(ArchiveError, match="REVIEWS_OPENSEARCH_INDEX"):
        configured()
    monkeypatch.setenv("REVIEWS_OPENSEARCH_INDEX", "reviews")
    monkeypatch.setenv("REVIEWS_OPENSEARCH", "ftp://u:secret@h:21")
    with pytest.raises(ArchiveError) as err:
        configured()
    assert "secret" not in str(err.value)


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_no_node_answering_names_every_url():
    a, b = _closed_port(), _closed_port()
    with Client(Target((a, b), "reviews"), timeout=2) as client:
        with pytest.raises(Unreachable) as err:
            client.request("GET", "/")
    assert a in str(err.value) and b in str(err.value) and err.value.exit_code == 6


def test_commands_name_the_unreachable_cluster_and_ingest_still_stores(tmp_path):
    dead = _closed_port()
    env = {"REVIEWS_OPENSEARCH": dead, "REVIEWS_DATA": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-c", "import cli; cli.main()"]
    ing = subprocess.run([*cmd, "ingest", "-q", str(SAMPLE)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert ing.returncode == 6 and dead in ing.stderr and "stored" in ing.stderr
    assert "Traceback" not in ing.stderr and "pending" in ing.stderr.strip().splitlines()[-1]
    shown = subprocess.run([*cmd, "show", SAMPLE_UUID[:8]], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert shown.returncode == 0 and SAMPLE_UUID in shown.stdout  # stored, and local
    for args in (["search", "研究"], ["search", "-l", "研究"], ["refs", "学习"],
                 ["similar", SAMPLE_UUID[:8]], ["reindex", "-q"], ["export", "--search", "研究"]):
        res = subprocess.run([*cmd, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
        assert res.returncode == 6, (args, res.returncode, res.stderr)
        assert dead in res.stderr and "Traceback" not in res.stderr, args


def test_the_cluster_document_and_mapping(tmp_path):
    """The document carries exactly the mapping's fields (``dynamic: strict`` would refuse
    any other), and external versions order deliveries by time, then content."""
    from archive.parser import parse

    record = parse(SAMPLE.read_bytes(), "sample")[0].record
    doc = cluster_document(record, "ab" * 32, "host")
    m = mapping(3, 1)
    assert set(doc) == set(m["mappings"]["properties"]) and m["mappings"]["dynamic"] == "strict"
    assert doc["doc"]["spellings"] == [[r.ref_id, r.title] for r in record.references]  # as written
    assert "残差" in doc["w"].split() and "残差" in doc["g"] and doc["uuid"] == SAMPLE_UUID
    early = external_version("2025-11-21 19:20:13", "ff" * 32)
    later = external_version("2025-11-21 19:20:14", "00" * 32)
    assert early < later < 2**63
    assert external_version("2025-11-21 19:20:13", "01" + "0" * 62) < early


def _stored(data) -> int:
    """How many reviews the archive in ``data`` holds (0 before it exists, and while the
    watcher is still creating it: the file is there before its tables are)."""
    from archive.errors import Damaged
    from archive.store import Store

    if not (data / "archive.sqlite3").is_file():
        return 0
    try:
        with Store.open(data, read_only=True) as store:
            return store.count()
    except Damaged:
        return 0


def test_a_watched_drop_folder_keeps_watching_while_the_cluster_is_away(tmp_path):
    """Each delivery is stored; the cluster's absence is said, and the watch goes on."""
    import os
    import signal
    import time

    from tests.helpers import variant

    dead = _closed_port()
    folder = tmp_path / "drop"
    folder.mkdir()
    env = dict(os.environ, REVIEWS_OPENSEARCH=dead, REVIEWS_DATA=str(tmp_path / "data"))
    p = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "ingest", "--watch",
                          str(folder)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        (folder / "a.txt").write_bytes(SAMPLE.read_bytes())
        (folder / "b.txt").write_text(variant(uuid="ab" * 16), "utf-8")
        for _ in range(600):  # poll the archive (read here, not by a process a poll), up to 60 s
            if _stored(tmp_path / "data") == 2:
                break
            time.sleep(0.1)
        assert p.poll() is None  # still watching
    finally:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
    listing = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "list", "--json"],
                             cwd=ROOT, env=env, capture_output=True, text=True)
    assert listing.returncode == 0 and len(json.loads(listing.stdout)) == 2
    assert p.returncode == 0 and dead in err and "pending" in err and "Traceback" not in err
