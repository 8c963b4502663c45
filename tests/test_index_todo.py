"""What the index must do next, read from the archive's ``index_todo`` (kept by
triggers), against the joins over every review that answered it before: the same
answers after every kind of change to the archive or to what the index recorded."""
from __future__ import annotations

import random
import sqlite3

from archive.config import archive_path
from archive.store import SCHEMA_VERSION, Store
from index import state
from tests.helpers import add_bytes, numbered_uuid, variant


def _joins(store) -> tuple[list, list]:
    """``state.pending`` and ``state.removed`` as schema 4 asked them."""
    pending = [tuple(r) for r in store.execute(
        "SELECT r.uuid, r.current_version FROM reviews r LEFT JOIN index_state s ON s.uuid = r.uuid"
        " WHERE s.version_id IS NULL OR s.version_id != r.current_version ORDER BY r.uuid")]
    removed = [r[0] for r in store.execute(
        "SELECT s.uuid FROM index_state s LEFT JOIN reviews r ON r.uuid = s.uuid"
        " WHERE r.uuid IS NULL ORDER BY s.uuid")]
    return pending, removed


def _todo(store) -> set[str]:
    return {r[0] for r in store.execute("SELECT uuid FROM index_todo")}


def test_the_todo_answers_as_the_joins_after_every_kind_of_change(tmp_path):
    rng = random.Random(19)
    uuids = [numbered_uuid(i) for i in range(1, 6)]
    day = [0]

    def deliver(u: str, older: bool = False) -> None:
        day[0] += 1
        when = f"2025-{1 if older else 2 + day[0] // 28:02d}-{1 + day[0] % 28:02d} 08:00:00"
        add_bytes(store, variant(uuid=u, received=when).encode())

    with Store.open(tmp_path / "data") as store:
        stale: list = []
        steps = ["new", "version", "older", "retract", "restore", "purge", "index all",
                 "index some", "index stale", "forget", "reset", "state row lost"]
        seen = set()
        for _ in range(160):
            step = rng.choice(steps)
            present = [r[0] for r in store.execute("SELECT uuid FROM reviews")]
            held = [r[0] for r in store.execute("SELECT uuid FROM index_state")]
            if step == "new":
                deliver(rng.choice(uuids))
            elif step == "version" and present:
                deliver(rng.choice(present))
            elif step == "older" and present:
                deliver(rng.choice(present), older=True)
            elif step == "retract" and present:
                store.retract(rng.choice(present), "test")
            elif step == "restore" and store.retracted():
                store.restore(rng.choice(store.retracted())[0])
            elif step == "purge" and (present or store.retracted()):
                u = rng.choice(present + [r[0] for r in store.retracted()])
                store.purge(u)
                if u not in {r[0] for r in store.execute("SELECT uuid FROM index_state")}:
                    assert u not in _todo(store)  # no row names a purged review the index lacks
            elif step == "index all":
                stale = state.pending(store)
                state.mark_indexed(store, stale)
            elif step == "index some":
                pending = state.pending(store)
                state.mark_indexed(store, rng.sample(pending, len(pending) // 2))
            elif step == "index stale" and stale:
                state.mark_indexed(store, stale)  # what an earlier run read, recorded late
            elif step == "forget":
                state.forget(store, state.removed(store))
            elif step == "reset":
                state.reset(store, rng.sample(_joins(store)[0], len(_joins(store)[0]) // 2))
            elif step == "state row lost" and held:  # as Store._reread asks for a review again
                store.write(lambda: store.execute("DELETE FROM index_state WHERE uuid = ?",
                                                  (rng.choice(held),)))
            else:
                continue
            seen.add(step)
            assert (state.pending(store), state.removed(store)) == _joins(store), step
        assert seen == set(steps)
        state.forget(store, state.removed(store))
        state.mark_indexed(store, state.pending(store))
        assert _todo(store) == set() and _joins(store) == ([], [])  # the work done, none left


def test_a_schema_4_archive_gets_its_todo_from_the_joins(tmp_path):
    data = tmp_path / "data"
    with Store.open(data) as store:
        for i in (1, 2, 3, 4):
            add_bytes(store, variant(uuid=numbered_uuid(i)).encode())
        state.mark_indexed(store, state.pending(store)[:2])
        store.retract(numbered_uuid(1), "test")
        want = _joins(store)
    db = sqlite3.connect(archive_path(data))
    db.executescript("DROP TABLE index_todo; DROP TRIGGER todo_review_in;"
                     " DROP TRIGGER todo_review_moved; DROP TRIGGER todo_review_out;"
                     " DROP TRIGGER todo_state_in; DROP TRIGGER todo_state_moved;"
                     " DROP TRIGGER todo_state_out;"
                     " UPDATE meta SET value = '4' WHERE key = 'schema_version';")
    db.close()
    with Store(archive_path(data), read_only=True) as store:  # read as it is: the joins
        assert store.schema_version == 4
        assert (state.pending(store), state.removed(store)) == want
    with Store.open(data) as store:  # a writer migrates it
        assert store.schema_version == SCHEMA_VERSION
        assert _todo(store) == {u for u, _ in want[0]} | set(want[1])
        assert (state.pending(store), state.removed(store)) == want
        add_bytes(store, variant(uuid=numbered_uuid(5)).encode())  # the triggers are there
        assert (state.pending(store), state.removed(store)) == _joins(store)
        assert numbered_uuid(5) in _todo(store)
