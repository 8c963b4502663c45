"""The OpenSearch engine against a real one-node cluster (``cluster`` tier, in make test).

The differential test runs the same queries on the same archive through the embedded
Whoosh index and through the cluster: ``search -l`` must give exactly the same set.
Then the commands in cluster mode (ingest, search, refs, similar, export, retract,
restore, purge), two archives sharing one index, and an unreachable cluster.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import subprocess
import sys

import pytest

from archive.store import Store
from bench.corpus import generate
from index.cluster_client import Client, Target
from index.cluster_sync import catch_up
from index.engine import Cluster
from index.indexer import rebuild
from index.search import search as embedded_search
from tests.helpers import ROOT, SAMPLE, SAMPLE_UUID, add_bytes, variant
from tests.test_search import oracle, probe_strings, texts

pytestmark = pytest.mark.cluster

REVIEWS = [sys.executable, "-c", "import cli; cli.main()"]
_names = itertools.count()

#: A record whose text holds what Lucene, JSON and shells treat as syntax.
HOSTILE_UUID = "fe" * 16
HOSTILE_TEXT = 'JSON {"key": "a*b"} 路径 C:\\temp\\x/y 与 field:value 以及 (a OR b) 和 ~2 ^3 [1 TO 5] 和 <tag>'


def fresh_index() -> str:
    return f"t{os.getpid()}-{next(_names)}"


def engine(url: str, index: str) -> Cluster:
    return Cluster(Target((url,), index))


@pytest.fixture(scope="module")
def archive(tmp_path_factory, opensearch_url):
    """60 generated reviews, the sample and a hostile one, in both engines."""
    root = tmp_path_factory.mktemp("both")
    store = Store.open(root)
    for g in generate(60, seed=11):
        add_bytes(store, g.data, g.name)
    add_bytes(store, SAMPLE.read_bytes(), "sample")
    add_bytes(store, variant(uuid=HOSTILE_UUID, replace=("深度学习", HOSTILE_TEXT + " 深度学习")).encode(),
              "hostile")
    rebuild(store, root / "index")
    eng = engine(opensearch_url, fresh_index())
    catch_up(store, eng.client, eng.index)
    records = [rec for _, rec in store.iter_current()]
    yield store, root / "index", eng, records
    eng.close()
    store.close()


def both(archive, query: str) -> tuple[list[str], list[str]]:
    _, index_dir, eng, _ = archive
    a = embedded_search(index_dir, query, ids_only=True, limit=None).uuids
    b = eng.search(query, ids_only=True, limit=None).uuids
    return a, b


def queries(records) -> list[str]:
    """Literals (single characters, Chinese strings inside and across words, Latin
    words and joined words), AND, NOT, OR, phrases and every field."""
    rng = random.Random(3)
    probes = probe_strings(records)
    picked = rng.sample(probes, 40)
    singles = sorted({p for p in probes if len(p) == 1})[:6]
    out = picked + singles
    for a, b in (rng.sample(probes, 2) for _ in range(12)):
        out += [f'"{a}" "{b}"', f'"{a}" -"{b}"', f'"{a}" OR "{b}"']
    rec = records[0]
    chapter = next(s for s in rec.sections if s.depth == 1)
    ref = next(r for r in rec.references if r.ref_id)
    out += [
        f"topic:{rec.topic[:4]}", f"topic:{rec.topic[2:5]} 研究", "section:1 研究", "section:2.1 模型",
        f"section:{chapter.title[:2]} 的", "section:abstract 深度学习", "section:references 学习",
        f"ref:{ref.ref_id}", f"ref:{ref.title[:3]}", "ref:学习 深度", f"uuid:{rec.uuid[:3]}",
        "研究 since:2025-01-01", "研究 until:2025-03-01", "模型 since:2024-09-01 until:2025-02-01",
        '"transfer learning"', '"深度 学习"', "ResNet -GAN", "F1-Score", "PM2.5", "的研究意义",
        "综合现有证", "NOT 研究 模型", "学习 -section:1", "-topic:图像 研究",
        '"C:\\temp\\x/y"', '"field:value"', '"(a OR b)"', '"[1 TO 5]"',
        '"<tag>"', '"~2 ^3"', "\\", "{}", '"*"', "a*b",
    ]
    return list(dict.fromkeys(out))


def test_every_query_gives_the_same_set_in_both_modes(archive):
    _, _, _, records = archive
    qs = queries(records)
    assert len(qs) >= 60
    split = 0
    for q in qs:
        try:
            a, b = both(archive, q)
        except Exception as err:  # noqa: BLE001 - both must refuse it alike
            with pytest.raises(type(err)):
                archive[2].search(q, ids_only=True, limit=None)
            continue
        assert len(b) == len(set(b)), q
        assert set(a) == set(b), (q, sorted(set(a) ^ set(b)))
        split += 0 < len(a) < len(records)
    assert split >= 30  # most queries split the archive, so both directions count


def test_facets_and_date_order_are_the_embedded_ones(archive):
    """--facets (counts, order and refinements) and --sort date, both engines: the same
    numbers over the same set, the same order, whole and by the page."""
    _, index_dir, eng, records = archive
    rec = records[0]
    qs = queries(records)[::4] + ["研究", f"topic:{rec.topic[:4]}", "模型 since:2024-09-01 until:2025-02-01",
                                  "研究 -深度学习", '"深度 学习"', "ResNet -GAN"]
    spread = 0
    for q in qs:
        try:
            want = embedded_search(index_dir, q, limit=3, facets=True, sort="date")
        except Exception as err:  # noqa: BLE001 - both must refuse it alike
            with pytest.raises(type(err)):
                eng.search(q, limit=3, facets=True, sort="date")
            continue
        got = eng.search(q, limit=3, facets=True, sort="date")
        assert got.facets.to_dict() == want.facets.to_dict(), q
        assert [r.uuid for r in got.reviews] == [r.uuid for r in want.reviews], q
        assert eng.search(q, ids_only=True, limit=None, sort="date").uuids == \
            embedded_search(index_dir, q, ids_only=True, limit=None, sort="date").uuids, q
        # the page the cluster answers alone (no text to check, no facets): in date order too
        assert [r.uuid for r in eng.search(q, limit=4, offset=1, sort="date").reviews] == \
            embedded_search(index_dir, q, ids_only=True, limit=None, sort="date").uuids[1:5], q
        spread += len(want.facets.topics) > 3 and len(want.facets.months) > 3
    assert spread >= 10


def test_literals_match_the_substring_oracle_on_the_cluster(archive):
    _, _, eng, records = archive
    holders = {r.uuid: texts(r) for r in records}
    for s in random.Random(9).sample(probe_strings(records), 25):
        pattern = oracle(s)
        want = {u for u, ts in holders.items() if any(pattern.search(t) for t in ts)}
        got = set(eng.search(f'"{s}"', ids_only=True, limit=None).uuids)
        assert got == want, s


def test_hostile_syntax_is_literal(archive):
    """Lucene's and JSON's syntax in a query is text: it finds the record holding it."""
    for q in ['"C:\\temp\\x/y"', '"field:value"', '"[1 TO 5]"', "a*b", '{key}', "x/y",
              '"(a OR b)"', "<tag>", "\\temp"]:
        a, b = both(archive, q)
        assert a == b == [HOSTILE_UUID], q


def test_sections_and_snippets_are_the_embedded_ones(archive):
    _, index_dir, eng, _ = archive
    for q in ["深度学习 模型", "section:1 研究", "ref:学习", "小样本", "ResNet"]:
        want = {r.uuid: r for r in embedded_search(index_dir, q, limit=None).reviews}
        got = eng.search(q, limit=None)
        assert got.total_reviews == len(want)
        for r in got.reviews:
            w = want[r.uuid]
            assert (r.n_sections, r.topic, r.received_at) == (w.n_sections, w.topic, w.received_at)
            assert [(s.number, s.title, s.snippet) for s in r.sections] == \
                   [(s.number, s.title, s.snippet) for s in w.sections], (q, r.uuid)


def test_topic_precision_at_10(tmp_path, opensearch_url):
    """Searching a topic's two key words ranks reviews of that topic first: at least
    0.8 of the first ten (or of all there are) have both words in their topic."""
    store = Store.open(tmp_path)
    for g in generate(240, seed=4):
        add_bytes(store, g.data, g.name)
    eng = engine(opensearch_url, fresh_index())
    catch_up(store, eng.client, eng.index)
    topics = [r.topic for _, r in store.iter_current()]
    pairs = {}
    for t in topics:
        m = re.match(r"(.+?)在(.+?)(?:中|领域)", t)
        if m:
            pairs[(m.group(1), m.group(2))] = pairs.get((m.group(1), m.group(2)), 0) + 1
    tried = [p for p, n in sorted(pairs.items(), key=lambda kv: -kv[1]) if n >= 2][:8]
    assert len(tried) >= 4
    precisions = []
    for t, o in tried:
        res = eng.search(f"{t} {o}", limit=10)
        relevant = sum(1 for r in res.reviews if t in r.topic and o in r.topic)
        precisions.append(relevant / min(10, pairs[(t, o)], len(res.reviews)))
    assert sum(precisions) / len(precisions) >= 0.8, precisions
    mapping = eng.client.request("GET", f"/{eng.index}/_mapping")
    assert mapping[eng.index]["mappings"]["dynamic"] == "strict"
    eng.close()
    store.close()


# -- the commands in cluster mode ------------------------------------------------------

def run(args, env, data, stdin=None) -> subprocess.CompletedProcess:
    full = {**os.environ, **env, "REVIEWS_DATA": str(data)}
    return subprocess.run([*REVIEWS, *args], cwd=ROOT, env=full, capture_output=True, text=True,
                          input=stdin, timeout=300)


@pytest.fixture()
def records(tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    for g in generate(12, seed=21):
        (folder / g.name).write_bytes(g.data)
    (folder / "sample.txt").write_bytes(SAMPLE.read_bytes())
    return folder


def test_the_commands_on_the_cluster(tmp_path, records, opensearch_url):
    env = {"REVIEWS_OPENSEARCH": opensearch_url, "REVIEWS_OPENSEARCH_INDEX": fresh_index()}
    data = tmp_path / "data"
    assert run(["ingest", "-q", str(records)], env, data).returncode == 0
    assert not (data / "index").exists()  # the cluster holds the index, not the data folder
    ids = run(["search", "-l", "的"], env, data)
    assert ids.returncode == 0 and len(ids.stdout.split()) == 13
    assert run(["search", "--count", "的"], env, data).stdout == "13\n"
    counted = json.loads(run(["search", "--count", "--facets", "--json", "的"], env, data).stdout)
    assert counted["count"] == 13 and sum(f["count"] for f in counted["facets"]["months"]) == 13
    out = run(["search", "残差网络", "--json"], env, data)
    assert json.loads(out.stdout)["reviews"][0]["uuid"] == SAMPLE_UUID
    refs = run(["refs", "钻孔图像", "--json"], env, data)
    groups = json.loads(refs.stdout)
    assert groups and groups[0]["uses"] and groups[0]["uses"][0]["uuid"] == SAMPLE_UUID
    shown = run(["refs", "学习", "--limit", "2"], env, data)  # the citations of 2 works read
    assert "more works" in shown.stdout
    assert shown.stdout == run(["refs", "学习", "--limit", "2"], {}, data).stdout  # as embedded
    sim = run(["similar", SAMPLE_UUID[:8], "--json"], env, data)
    assert sim.returncode == 0, sim.stderr
    exported = run(["export", "--search", "残差网络", "--format", "ris"], env, data)
    assert exported.returncode == 0 and "TY  - " in exported.stdout
    assert run(["retract", SAMPLE_UUID[:8], "--reason", "test"], env, data).returncode == 0
    assert SAMPLE_UUID not in run(["search", "-l", "残差网络"], env, data).stdout
    assert run(["restore", SAMPLE_UUID[:8]], env, data).returncode == 0
    assert SAMPLE_UUID in run(["search", "-l", "残差网络"], env, data).stdout
    assert run(["purge", SAMPLE_UUID[:8], "--yes"], env, data).returncode == 0
    assert run(["search", "-l", "残差网络"], env, data).stdout.strip() == ""
    with Client(Target((opensearch_url,), env["REVIEWS_OPENSEARCH_INDEX"])) as client:
        stats = client.request("GET", f"/{env['REVIEWS_OPENSEARCH_INDEX']}/_stats/docs")
        docs = stats["_all"]["primaries"]["docs"]
        assert docs["count"] == 12 and docs["deleted"] == 0  # deleted, then expunged
        assert client.request("GET", f"/{env['REVIEWS_OPENSEARCH_INDEX']}/_doc/{SAMPLE_UUID}",
                              ok=(404,))["found"] is False


def test_two_archives_share_one_index(tmp_path, opensearch_url):
    """Two hosts: each searches the union; one UUID delivered to both is one document,
    the newest delivery, whichever host writes last; a re-run changes nothing."""
    env = {"REVIEWS_OPENSEARCH": opensearch_url, "REVIEWS_OPENSEARCH_INDEX": fresh_index()}
    a, b = tmp_path / "a", tmp_path / "b"
    gens = list(generate(10, seed=33))
    for folder, part in ((a, gens[:5]), (b, gens[5:])):
        (folder / "in").mkdir(parents=True)
        for g in part:
            (folder / "in" / g.name).write_bytes(g.data)
    old = variant(received="2025-11-21 19:20:13", replace=("深度学习", "旧版独有词 深度学习"))
    new = variant(received="2025-12-01 08:00:00", replace=("深度学习", "新版独有词 深度学习"))
    (b / "in" / "old.txt").write_text(old, "utf-8")
    (a / "in" / "new.txt").write_text(new, "utf-8")
    assert run(["ingest", "-q", str(a / "in")], env, a / "data").returncode == 0
    assert run(["ingest", "-q", str(b / "in")], env, b / "data").returncode == 0  # older, last
    for host in (a, b):
        got = run(["search", "-l", "的"], env, host / "data").stdout.split()
        assert len(got) == 11 and len(set(got)) == 11
        assert run(["search", "-l", "新版独有词"], env, host / "data").stdout.split() == [SAMPLE_UUID]
        assert run(["search", "-l", "旧版独有词"], env, host / "data").stdout.strip() == ""
    # host b shows what only host a ingested: sections, snippets, citing sentences
    only_a = gens[0].truth.uuid
    shown = json.loads(run(["search", f"uuid:{only_a}", "研究", "--json"], env, b / "data").stdout)
    (hit,) = shown["reviews"]
    assert hit["uuid"] == only_a and hit["sections"]
    assert "研究" in "".join(p["text"] for p in hit["sections"][0]["snippet"] if p["match"])
    groups = json.loads(run(["refs", "钻孔图像", "--json"], env, b / "data").stdout)
    assert any(u["uuid"] == SAMPLE_UUID and u["sentence"] for g in groups for u in g["uses"])
    related = run(["similar", only_a[:10], "--json"], env, b / "data")
    assert related.returncode == 0 and json.loads(related.stdout), related.stderr
    assert run(["reindex", "-q"], env, b / "data").returncode == 0
    assert run(["search", "-l", "新版独有词"], env, a / "data").stdout.split() == [SAMPLE_UUID]
    with Client(Target((opensearch_url,), env["REVIEWS_OPENSEARCH_INDEX"])) as client:
        assert client.request("POST", f"/{env['REVIEWS_OPENSEARCH_INDEX']}/_count")["count"] == 11


def test_an_unreachable_cluster_is_named_and_caught_up_later(tmp_path, records, opensearch_url):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # (closed when the block ends)
    name = fresh_index()
    down = {"REVIEWS_OPENSEARCH": dead, "REVIEWS_OPENSEARCH_INDEX": name}
    data = tmp_path / "data"
    ing = run(["ingest", "-q", str(records)], down, data)
    assert ing.returncode == 6 and dead in ing.stderr and "Traceback" not in ing.stderr
    assert "stored" in ing.stderr
    for args in (["search", "研究"], ["search", "-l", "研究"], ["refs", "学习"],
                 ["similar", SAMPLE_UUID[:8]], ["reindex", "-q"],
                 ["export", "--search", "研究"]):
        res = run(args, down, data)
        assert res.returncode == 6, (args, res.returncode, res.stderr)
        assert dead in res.stderr and "Traceback" not in res.stderr, args
    up = {"REVIEWS_OPENSEARCH": f"{dead},{opensearch_url}", "REVIEWS_OPENSEARCH_INDEX": name}
    got = run(["search", "-l", "的"], up, data)  # the dead URL first: the next one answers
    assert got.returncode == 0 and len(got.stdout.split()) == 13, got.stderr
