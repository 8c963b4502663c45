"""Near-duplicate reviews and recycled passages (index/dupes.py) over a real archive of
generated records with planted copies (tests/dupes_plants.py)."""
from __future__ import annotations

import itertools
import json
import random
import shutil

import pytest

from archive.store import Store
from bench.corpus import generate, redeliver
from index import dupes
from index.dupes_store import FILE
from tests import dupes_plants as plant
from tests.helpers import add_bytes

BASE = 240
EDITED = range(0, 20)  # a copy with 1-5 sentences edited
REORDERED = range(20, 30)  # a copy with its chapters in another order
REPLACED = range(30, 40)  # a copy with one chapter replaced (from record 200 + i)
RECYCLED = range(40, 45)  # a copy under another topic
PASSAGE_IN = (100, 101, 102)  # a planted paragraph, in three reviews (the third's edited)
PASSAGE_TWICE = (110, 111)  # another, in two only
REDELIVERED = range(150, 155)  # a new version of the same UUID (other content)
REDELIVERED_SAME = range(155, 160)  # a new version of the same UUID (the same content)
EDITED_PASSAGE = plant.PASSAGE.replace("参考标准", "通行标准")
OTHER_PASSAGE = ("围绕长期随访数据的缺失问题，学者们尝试以多重插补与敏感性分析相结合的方式评估偏倚的"
                 "方向和大小，但由于各研究报告的随访时间差异悬殊，这些方法的结论仍需在更大样本中加以验证。")


def _copy_uuid(i: int) -> str:
    return f"{0xdd000000 + i:08x}" + "0" * 24


def _later(g, days: int = 3) -> str:
    y, rest = g.truth.received_at[:4], g.truth.received_at[4:]
    return f"{int(y) + 1}{rest}" if days else g.truth.received_at


@pytest.fixture(scope="module")
def records():
    return list(generate(BASE, seed=21))


@pytest.fixture(scope="module")
def planted(records) -> dict[str, str]:
    """``copy uuid -> original uuid`` of every planted near duplicate."""
    rng = random.Random(7)
    out = {}
    for i in itertools.chain(EDITED, REORDERED, REPLACED, RECYCLED):
        g = records[i]
        text = plant.text_of(g)
        if i in EDITED:
            text = plant.edited(text, 1 + i % 5, rng)
        elif i in REORDERED:
            text = plant.reordered(text)
        elif i in REPLACED:
            text = plant.replaced(text, plant.text_of(records[200 + i - 30]))
        else:
            text = plant.with_header(text, topic=f"{g.truth.topic}（再版{i}）")
        out[_copy_uuid(i)] = (g.truth.uuid, plant.with_header(text, uuid=_copy_uuid(i),
                                                              received=_later(g)))
    return out


@pytest.fixture(scope="module")
def archive(tmp_path_factory, records, planted):
    data = tmp_path_factory.mktemp("dupes")
    with Store.open(data) as store, store.batch():
        for i, g in enumerate(records):
            text = plant.text_of(g)
            if i in PASSAGE_IN:
                text = plant.with_passage(text, EDITED_PASSAGE if i == PASSAGE_IN[-1] else plant.PASSAGE)
            elif i in PASSAGE_TWICE:
                text = plant.with_passage(text, OTHER_PASSAGE)
            add_bytes(store, text.encode("utf-8"), g.name)
        for copy, (_, text) in planted.items():
            add_bytes(store, text.encode("utf-8"), f"{copy}.txt")
        for i in REDELIVERED:
            add_bytes(store, redeliver(records[i], 1).data, "again.txt")
        for i in REDELIVERED_SAME:
            text = plant.with_header(plant.text_of(records[i]), received=_later(records[i]))
            assert add_bytes(store, text.encode("utf-8"), "same-again.txt").status == "version"
    return data


def _pairs(groups: list[dupes.Group]) -> set[frozenset[str]]:
    return {frozenset(p) for g in groups for p in itertools.combinations([m.uuid for m in g.members], 2)}


def test_every_planted_copy_is_found_and_nothing_else(archive, planted):
    with Store.open(archive) as store:
        found = dupes.groups(store, archive)
    truth = {frozenset((copy, original)) for copy, (original, _) in planted.items()}
    pairs = _pairs(found)
    recall = len(truth & pairs) / len(truth)
    precision = len(truth & pairs) / len(pairs)
    assert recall >= 0.95 and precision >= 0.95, (recall, precision, pairs - truth, truth - pairs)
    assert pairs == truth  # each kind of copy, and no two distinct reviews
    uuids = [m.uuid for g in found for m in g.members]
    assert len(uuids) == len(set(uuids)), "a review in two groups"


def test_a_group_names_the_first_the_similarity_and_the_shared_chapters(archive, planted, records):
    with Store.open(archive) as store:
        found = {g.first.uuid: g for g in dupes.groups(store, archive)}
    for i, g in enumerate(records[:45]):
        group = found[g.truth.uuid]
        first, copy = group.members
        assert first.uuid == g.truth.uuid and first.received_at == g.truth.received_at
        assert copy.uuid == _copy_uuid(i) and copy.received_at > first.received_at
        assert 0.8 <= group.similarity == copy.similarity <= 1.0
        chapters = [s for s in copy.shared if s.first != "abstract"]
        numbers = {n.split(".")[0] for n, _ in g.truth.sections}
        if i in REORDERED:  # each chapter found under the number of its new place
            assert {s.first for s in chapters} == set(numbers)
            assert all(s.first != s.other for s in chapters)
            assert group.similarity >= 0.95
        elif i in REPLACED:  # all but the replaced one (the third)
            assert {s.first for s in chapters} == set(numbers) - {"3"}
            assert all(s.first == s.other for s in chapters)
        else:
            assert {s.first for s in chapters} == set(numbers)
        if i in RECYCLED:
            assert copy.topic != first.topic


def test_a_passage_in_three_reviews_is_found_with_its_places(archive, records):
    with Store.open(archive) as store:
        found = dupes.passages(store, archive)
    assert [p.text for p in found] == [plant.PASSAGE]
    (passage,) = found
    where = {(o.uuid, o.section) for o in passage.occurrences}
    assert {u for u, _ in where} == {records[i].truth.uuid for i in PASSAGE_IN}
    assert all(s.count(".") >= 1 and s.startswith("2") for _, s in where)  # chapter 2's first section
    assert passage.reviews == 3
    received = [o.received_at for o in passage.occurrences]
    assert received == sorted(received)


# (slow tier: sketches the archive again in worker processes, ~1.3 s of CPU)
@pytest.mark.slow
def test_results_are_the_same_run_to_run(archive, tmp_path, monkeypatch):
    """Sketched anew, and in worker processes this time: the same groups and passages."""
    copy = tmp_path / "data"
    shutil.copytree(archive, copy)
    (copy / FILE).unlink(missing_ok=True)
    monkeypatch.setattr(dupes, "_PARALLEL", 50)
    with Store.open(archive) as a, Store.open(copy) as b:
        assert dupes.groups(a, archive) == dupes.groups(b, copy)
        assert dupes.passages(a, archive) == dupes.passages(b, copy)


def test_one_new_copy_updates_the_groups_and_retraction_removes_it(archive, records, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(archive, data)
    with Store.open(data) as store:
        before = dupes.groups(store, data)
        g = records[60]
        text = plant.with_header(plant.text_of(g), uuid=_copy_uuid(60), received=_later(g))
        add_bytes(store, text.encode("utf-8"), "new.txt")
        assert dupes.update(store, data) == dupes.Updated(sketched=1, forgotten=0)
        after = dupes.groups(store, data)
        assert len(after) == len(before) + 1
        new = next(x for x in after if x.first.uuid == g.truth.uuid)
        assert [m.uuid for m in new.members] == [g.truth.uuid, _copy_uuid(60)]
        assert new.similarity == 1.0
        store.retract(_copy_uuid(60), "a copy")
        assert dupes.groups(store, data) == before
        gone = records[0].truth.uuid  # an original: its copy is alone now
        store.purge(gone)
        dupes.forget(data, gone)  # as `reviews purge` does
        assert not any(gone.encode() in p.read_bytes() for p in data.glob(FILE + "*"))
        assert [x.first.uuid for x in dupes.groups(store, data)] == \
            [x.first.uuid for x in before if x.first.uuid != gone]


def test_a_damaged_or_foreign_sketch_file_is_rebuilt(archive, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(archive, data)
    with Store.open(data) as store:
        want = dupes.groups(store, data)
        (data / FILE).write_bytes(b"not a database" * 100)
        for extra in ("-wal", "-shm"):
            (data / (FILE + extra)).unlink(missing_ok=True)
        assert dupes.groups(store, data) == want
        assert "rebuilding" in capsys.readouterr().err


def _cli(data, *args):
    from click.testing import CliRunner

    from cli import main

    return CliRunner().invoke(main, list(args), env={"REVIEWS_DATA": str(data)})


def test_the_command_lists_groups_and_passages(archive, records, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(archive, data)
    (data / FILE).unlink(missing_ok=True)
    r = _cli(data, "dupes")
    assert r.exit_code == 0, r.output
    assert "sketching" in r.stderr  # the first run says why it takes a while
    assert "45 groups of near-duplicate reviews (90 reviews) at similarity 0.80 or more" in r.stderr
    lines = r.stdout.splitlines()
    reordered = records[REORDERED[0]].truth
    at = lines.index(next(ln for ln in lines if ln.startswith(f"  first  {reordered.uuid[:12]}")))
    assert lines[at + 1].startswith(f"  1.00   {_copy_uuid(REORDERED[0])[:12]}")
    assert lines[at + 2].startswith("         shares 摘要 1→9 2→1 3→2")  # each chapter one place back
    js = json.loads(_cli(data, "dupes", "--json").stdout)
    assert len(js) == 45 and all(len(g["reviews"]) == 2 for g in js)
    group = next(g for g in js if g["first"] == records[REPLACED[0]].truth.uuid)
    assert group["reviews"][1]["uuid"] == _copy_uuid(REPLACED[0])
    assert "3" not in {s["first"] for s in group["reviews"][1]["shared"]}
    exact = json.loads(_cli(data, "dupes", "--threshold", "1.0", "--json").stdout)
    assert 10 <= len(exact) < 45 and all(g["similarity"] == 1.0 for g in exact)  # reordered ones
    r = _cli(data, "dupes", "--passages")
    assert r.exit_code == 0 and "passage 1: in 3 reviews" in r.stdout
    assert r.stdout.count("¶") == 3
    js = json.loads(_cli(data, "dupes", "--passages", "--json").stdout)
    assert [p["text"] for p in js] == [plant.PASSAGE]
    for args in (["--threshold", "0.3"], ["--passages", "--threshold", "0.9"]):
        r = _cli(data, "dupes", *args)
        assert r.exit_code == 2 and "Traceback" not in r.output
    r = _cli(data, "purge", _copy_uuid(0)[:8], "--yes")
    assert r.exit_code == 0, r.output
    assert not any(_copy_uuid(0).encode() in p.read_bytes() for p in data.glob(FILE + "*"))
    assert len(json.loads(_cli(data, "dupes", "--json").stdout)) == 44


def test_paragraph_places_and_collisions_are_those_of_the_eager_forms(archive):
    """The paragraphs' places are read lazily from the sketch file (dupes_store.Places)
    and the key collisions found from the repeats alone: the same as a list of every
    place and a start and end for every distinct key."""
    import sqlite3

    import numpy as np

    from index.dupes_store import DupesStore, Places

    data = archive
    dupes.groups(Store(data / "archive.sqlite3"), data)  # (the sketches made)
    db = sqlite3.connect(data / FILE)
    eager = [(u, section, number) for u, paragraphs in
             db.execute("SELECT uuid, paragraphs FROM sketches ORDER BY uuid")
             for section, number in json.loads(paragraphs)]
    db.close()
    with DupesStore.open(data) as ds:
        places, keys, owner = ds.paragraph_bands()
    assert isinstance(places, Places) and len(places) == len(eager) > 1000
    assert [places[i] for i in range(len(places))] == eager
    with pytest.raises(IndexError):
        places[len(places)]

    def every_run(keys, owner):
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        edges = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        for s, e in zip(np.concatenate(([0], edges)), np.concatenate((edges, [len(keys)]))):
            run = order[s:e]
            if len(np.unique(owner[run])) > 1:
                yield run.tolist()
    runs = [r.tolist() for r in dupes.collisions(keys, owner)]
    assert runs == list(every_run(keys, owner)) and runs
