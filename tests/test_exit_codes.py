"""Exit codes (issue 22, fault 6): one table in archive/errors.py, shown in the README and
docs/cli.md, and every command walked through each kind of ending: success, usage error,
findings, a full disk (a real tmpfs, full, in a mount namespace of its own), a read-only
archive (as root: without root's file capabilities, util-linux setpriv), a busy index
(another process holds its lock) and a damaged archive.

Real records, a real archive and index, the real CLI (CliRunner, or `reviews` itself
where a process of its own is the point); no mocks.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import errors
from archive.errors import BUSY, DISK_FULL, FINDINGS, OK, READ_ONLY, USAGE, ArchiveError
from cli import main
from index.folder import index_dir, lock_path
from tests.helpers import SAMPLE, SAMPLE_UUID, numbered_uuid, variant

ROOT = Path(__file__).resolve().parent.parent
A, B, C, D = SAMPLE_UUID, numbered_uuid(1), numbered_uuid(2), numbered_uuid(3)
READERS = {  # commands that only read: they answer on a read-only, busy or nearly full archive
    "list": ["list"], "show": ["show", A[:8]], "check": ["check", A[:8]], "stats": ["stats"],
    "search": ["search", "残差网络"], "refs": ["refs", "钻孔图像"], "similar": ["similar", A[:8]],
    "export": ["export", A[:8]], "verify": ["verify"], "dupes": ["dupes"],
}
WRITERS = {  # {new} is a record the archive lacks, {out} a folder for the site
    "ingest": ["ingest", "--quiet", "{new}"], "reindex": ["reindex", "--quiet"],
    "retract": ["retract", B[:8], "--reason", "test"], "restore": ["restore", C[:8]],
    "purge": ["purge", B[:8], "--yes"], "site": ["site", "--quiet", "{out}"],
    "merge-segments": ["merge-segments"],
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """An archive of three reviews (A the sample, B, and C retracted), indexed; records
    for later: D (new), an empty file (refused)."""
    root = tmp_path_factory.mktemp("exit-codes")
    (root / "records").mkdir()
    for uuid in (B, C, D):
        (root / "records" / f"{uuid[:8]}.txt").write_text(variant(uuid=uuid), "utf-8")
    (root / "empty.txt").write_bytes(b"")
    data = root / "data"
    env = {"REVIEWS_DATA": str(data)}
    runner = CliRunner()
    for args in (["ingest", "--quiet", str(SAMPLE), *(str(root / "records" / f"{u[:8]}.txt") for u in (B, C))],
                 ["retract", C[:8], "--reason", "prepared"]):
        assert runner.invoke(main, args, env=env).exit_code == 0
    return root


@pytest.fixture
def archive(prepared, tmp_path):
    """A fresh copy of the prepared archive: (data folder, argument filler)."""
    data = tmp_path / "data"
    shutil.copytree(prepared / "data", data)
    return data, lambda args: [a.format(new=prepared / "records" / f"{D[:8]}.txt",
                                        out=tmp_path / "site") for a in args]


def run(data: Path, *args: str, **env: str):
    return CliRunner().invoke(main, list(args), env={"REVIEWS_DATA": str(data), **env})


def assert_one_line(r, code: int, args) -> None:
    assert r.exit_code == code, (args, r.exit_code, r.output)
    if code:
        err = r.stderr.strip().splitlines()
        assert err and err[-1].startswith("Error: ") and "Traceback" not in r.output, (args, r.output)
    assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception)


# -- the table -------------------------------------------------------------------------
def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_one_table_of_exit_codes_in_code_readme_and_reference():
    import archive.config  # noqa: F401 (every module that defines an error class)
    import archive.ingest  # noqa: F401
    import index.folder  # noqa: F401
    import index.query  # noqa: F401
    from docs.make_cli_reference import exit_code_table

    codes = [code for code, _, _ in errors.EXIT_CODES]
    assert len(codes) == len(set(codes)) and codes[:8] == list(range(8))
    for cls in [ArchiveError, *_subclasses(ArchiveError)]:
        assert cls.exit_code in codes, cls
    assert errors.Unreachable.exit_code == 6 and errors.DiskFull.exit_code == DISK_FULL
    assert archive.ingest.DiskFull is errors.DiskFull  # what an ingest raises when the disk fills
    table = exit_code_table()
    assert table in (ROOT / "README.md").read_text("utf-8")
    assert table in (ROOT / "docs" / "cli.md").read_text("utf-8")


# -- success, usage, findings ------------------------------------------------------------
# (slow tier: every command in a subprocess, ~1.5 s of CPU; each command's own tests stay fast)
@pytest.mark.slow
def test_every_command_succeeds_with_0(archive):
    data, fill = archive
    site = data.parent / "site"
    walk = {**READERS, **WRITERS}
    assert set(walk) | {"serve"} == set(main.commands), "walk the new command too"
    for name, args in walk.items():
        assert_one_line(run(data, *fill(args)), OK, args)
    exe = Path(sys.executable).with_name("reviews")
    # (a test run started in the background has SIGINT ignored, and children inherit that:
    # the server gets Ctrl+C's usual handling back, as on a terminal)
    with subprocess.Popen([exe, "serve", str(site), "--port", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as p:
        assert p.stdout.readline().startswith(f"serving {site} at http://127.0.0.1:")
        p.send_signal(signal.SIGINT)  # Ctrl+C: the way a preview ends
        assert p.wait(timeout=60) == OK and p.stdout.read() == "stopped\n"


def test_every_usage_error_gives_2(archive, tmp_path):
    data, fill = archive
    for name in main.commands:
        assert_one_line(run(data, name, "--no-such-option"), USAGE, name)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("not a site")
    (tmp_path / "no-archive").mkdir()
    for args in (["list", "--since", "2025-13-01"], ["list", "--flag", "nosuch"],
                 ["list", "--data-dir", str(tmp_path / "no-archive")],
                 ["search", "--since", "20251101", "x"], ["search", 'foo"'], ["search", "x", "until:x"],
                 ["show", "ffff"], ["show", "not-hex"], ["show", A[:8], "--section", "99"],
                 ["show", A[:8], "--version", "9"], ["check", "ffff"], ["similar", "ffff"],
                 ["export", "--ref", "r00000zz"], ["export"], ["export", C[:8]],
                 ["retract", "ffff", "--reason", "x"], ["retract", A[:8]], ["restore", A[:8]],
                 ["purge", A[:8]], ["purge", "ffff", "--yes"], ["refs"], ["refs", "--top", "0"],
                 ["reindex", "extra"], ["site", str(tmp_path / "taken")],
                 ["serve", str(tmp_path / "nothing")], ["ingest"], ["stats", "extra"]):
        assert_one_line(run(data, *args), USAGE, args)


def test_findings_give_1(archive, prepared):
    data, _ = archive
    r = run(data, "ingest", "--quiet", str(prepared / "empty.txt"), str(prepared / "records" / f"{D[:8]}.txt"))
    assert r.exit_code == FINDINGS and f"refused {prepared / 'empty.txt'}: empty file" in r.stderr
    assert D[:8] in run(data, "list").output  # the good record is stored
    assert run(data, "check", A[:8]).exit_code == OK  # a report
    r = run(data, "check", "--strict", A[:8])
    assert r.exit_code == FINDINGS and "truncated" in r.output  # defects, with --strict


# -- a full disk ---------------------------------------------------------------------------
def _in_full_tmpfs(prepared, tmp_path, cases) -> list:
    """The cases run in a mount namespace of their own on a full tmpfs (the walker
    fills it before each), as root or as a user whose namespaces map them to root."""
    if not shutil.which("unshare"):
        pytest.skip("no unshare (util-linux) to mount a small tmpfs")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    spec = {"mount": str(mnt), "size": "8m", "source": str(prepared / "data"), "cases": cases}
    p = subprocess.run(["unshare", "-Urm", sys.executable, "-m", "tests.exit_walk", json.dumps(spec)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    if p.returncode and ("mount" in p.stderr or "unshare" in p.stderr) and not p.stdout:
        pytest.skip(f"cannot mount a tmpfs in a namespace here: {p.stderr.strip()[-200:]}")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_a_full_disk_gives_3(prepared, tmp_path, archive):
    """Writers on a disk with no room at all, and with a little room (96 KiB: enough for
    SQLite's shared memory, not for a record, an index or a site) end with 3 and say so;
    readers answer as long as the archive can be opened."""
    data, _ = archive
    new = str(prepared / "records" / f"{D[:8]}.txt")

    def fill(args):
        return [a.format(new=new, out="{mnt}/site") for a in args]

    cases = ([{"args": fill(a), "leave": 0} for a in WRITERS.values()]
             + [{"args": fill(WRITERS[n]), "leave": 96 << 10} for n in ("ingest", "reindex", "purge", "site")]
             + [{"args": a, "leave": 96 << 10} for a in READERS.values()]
             + [{"args": a, "leave": 0} for a in READERS.values()])
    results = _in_full_tmpfs(prepared, tmp_path, cases)
    for case, (code, last, escaped) in zip(cases, results):
        assert not escaped, case
        if case["args"][0] in WRITERS:
            assert code == DISK_FULL and last.startswith("Error: the disk is full"), (case, code, last)
        elif case["leave"]:
            assert code == OK, (case, code, last)
        else:  # no room even to open the archive: said as a full disk, never a bug
            assert code in (OK, DISK_FULL) and (code == OK or "disk is full" in last), (case, last)
    r = run(data, "export", A[:8], "-o", "/dev/full")  # a device that is always full
    assert r.exit_code == DISK_FULL and r.stderr.startswith("Error: cannot write /dev/full: ")


# -- a read-only archive ---------------------------------------------------------------------
def test_a_read_only_archive_gives_4_to_writers_only(prepared, tmp_path):
    data, out = tmp_path / "ro" / "data", tmp_path / "ro" / "out"
    shutil.copytree(prepared / "data", data)
    out.mkdir()
    new = str(prepared / "records" / f"{D[:8]}.txt")
    writers = [[a.format(new=new, out=out / "site") for a in args] for args in WRITERS.values()]
    writers.append(["export", A[:8], "-o", str(out / "refs.bib")])
    cases = [{"args": a} for a in [*writers, *READERS.values()]]
    for p in [data, *data.rglob("*"), out]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    caps = "-dac_override,-dac_read_search,-fowner"
    as_user = ([shutil.which("setpriv") or "setpriv", f"--inh-caps={caps}", f"--ambient-caps={caps}",
                f"--bounding-set={caps}"] if os.geteuid() == 0 else [])
    try:
        p = subprocess.run([*as_user, sys.executable, "-m", "tests.exit_walk",
                            json.dumps({"data": str(data), "cases": cases})],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        for q in [data, *data.rglob("*"), out]:
            q.chmod(0o755 if q.is_dir() else 0o644)
    assert p.returncode == 0, p.stderr
    for case, (code, last, escaped) in zip(cases, json.loads(p.stdout)):
        assert not escaped, case
        want = READ_ONLY if case in cases[:len(writers)] else OK
        assert code == want, (case, code, last)
        if want:
            assert last.startswith("Error: ") and ("read-only" in last or "ermission denied" in last), last


# -- a busy index, a damaged archive, a taken port -----------------------------------------------
HOLD = ("import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n")


def hold_index_lock(data: Path) -> subprocess.Popen:
    """Another process holding the index's writer lock, as an indexing run at work does
    (until its standard input is closed)."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(lock_path(index_dir(data)))],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "held\n"
    return p


def test_a_busy_index_gives_5_to_writers_after_reviews_wait(archive):
    data, fill = archive
    holder = hold_index_lock(data)
    try:
        for name, args in WRITERS.items():
            r = run(data, *fill(args), REVIEWS_WAIT="0.05")
            assert_one_line(r, BUSY, args)
            assert "being written by another indexing run" in r.stderr and "REVIEWS_WAIT" in r.stderr
            if name == "ingest":  # the records are in; the index follows later
                assert "the records are stored in the archive (1 added" in r.stderr
        for args in READERS.values():
            assert_one_line(run(data, *args, REVIEWS_WAIT="0.05"), OK, args)
        r = run(data, "reindex", REVIEWS_WAIT="soon")
        assert_one_line(r, USAGE, "REVIEWS_WAIT=soon")
        assert "REVIEWS_WAIT 'soon': expected a number of seconds" in r.stderr
        shutil.rmtree(index_dir(data))  # a search that must build the index first
        assert_one_line(run(data, "search", "残差网络", REVIEWS_WAIT="0.05"), BUSY, "search")
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        holder.stdout.close()
    r = run(data, "search", "-l", "残差网络")  # the run is over: the index is built now
    assert r.exit_code == OK and A in r.stdout


def test_a_damaged_archive_and_a_taken_port_give_5(archive, tmp_path):
    data, _ = archive
    (data / "archive.sqlite3").write_bytes(b"not a database, " * 512)
    for p in data.glob("archive.sqlite3-*"):
        p.unlink()
    r = run(data, "list")
    assert_one_line(r, BUSY, "list")
    assert f"{data / 'archive.sqlite3'} is not a readable archive" in r.stderr
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<!doctype html>")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = run(data, "serve", str(tmp_path / "site"), "--port", str(port))
    assert_one_line(r, BUSY, "serve")
    assert f"port {port} on 127.0.0.1 is in use" in r.stderr
