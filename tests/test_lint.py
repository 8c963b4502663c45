"""Citation lint (archive/lint.py): uncited entries, one work listed twice, a work dated
after the review; made at parse time and given to an archive written before them."""
from __future__ import annotations

from click.testing import CliRunner

from archive.lint import LINT_CODES
from archive.parser import parse
from archive.store import DERIVED_VERSION, Store
from bench.quality import as_before_lint
from cli import main
from tests.helpers import add_bytes, variant

UUID = "0000000000000000000000000000abcd"


def record(main_list: str, ch2: str = "正文[^1]。", ch3: str = "正文。",
           received: str = "2025-06-01 10:00:00", uuid: str = UUID) -> bytes:
    """A small record: the abstract cites [1], chapter 1 [^1][^2]; chapter 2 and 3 as given."""
    return f"""回调数据记录
接收时间: {received}
主题: 引用检查
UUID: {uuid}

大纲:
# 引用检查
## 1. 引言
## 2. 方法
## 3. 展望

内容:
# 引用检查
**摘要**
摘要文本[1]。

**关键词** : 引用, 检查

## 1 引言
引言正文[^1][^2]。

## 2 方法
{ch2}

## 3 展望
{ch3}

# 参考文献:

{main_list}

对话结束
""".encode("utf-8")


MAIN = "[1] 图像识别综述. 2024.\n\n[2] 深度残差网络. 2023.\n\n[3] 迁移学习方法. 2025."


def lint_flags(data: bytes) -> list[tuple[str, str, str]]:
    rec = parse(data, "t.txt")[0].record
    return [(f.code, f.where, f.detail) for f in rec.flags if f.code in LINT_CODES]


def test_an_entry_no_marker_cites_is_flagged_per_list():
    # chapter 2 carries its own list: its [^1] cites that list's [1], not the main one's
    local = "方法正文[^1]。\n\n#### 参考文献\n1. Smith J, et al.\n2. Lee K, et al."
    assert lint_flags(record(MAIN, ch2=local)) == [
        ("reference-uncited", "references", "[3]"),
        ("reference-uncited", "2", "[2] of chapter 2"),
    ]
    # numbering that restarts in chapter 3 cites the main list again; a dangling marker
    # ([^9]) cites nothing
    assert lint_flags(record(MAIN, ch2="正文[^9]。", ch3="展望正文[^3]。")) == []
    rec = parse(record(MAIN, ch2="正文[^9]。"), "t.txt")[0].record
    assert ("dangling-citation", "2") in {(f.code, f.where) for f in rec.flags}
    assert ("reference-uncited", "references", "[3]") in lint_flags(record(MAIN, ch2="正文[^9]。"))


def test_one_work_listed_twice_by_its_reference_id():
    twice = MAIN + "\n\n[4] 图像识别综述.pdf(1).md."
    got = lint_flags(record(twice, ch3="展望[^3][^4]。"))
    assert got == [("reference-duplicate", "references", "[4] = [1]")]
    # entries naming only authors name no work: two "Smith J, et al" are two entries
    local = "正文[^1][^2]。\n\n#### 参考文献\n1. Smith J, et al.\n2. Smith J, et al."
    assert lint_flags(record(MAIN, ch2=local, ch3="展望[^3]。")) == []


def test_a_work_dated_after_the_review_was_received():
    future = MAIN.replace("迁移学习方法. 2025.", "迁移学习方法. 2026.")
    got = lint_flags(record(future, ch3="展望[^3]。"))
    assert got == [("reference-after-received", "references", "[3] (2026)")]
    # the year it was received passes (its month is not known)
    assert lint_flags(record(MAIN, ch3="展望[^3]。", received="2025-01-02 00:00:00")) == []


def test_check_strict_fails_on_the_defect_only(tmp_path):
    runner = CliRunner()
    env = {"REVIEWS_DATA": str(tmp_path / "data")}

    def run(*args: str):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    padded = MAIN + "\n\n[4] 图像识别综述.pdf.md. 2024."  # uncited, and [1] again: notes
    (tmp_path / "a.txt").write_bytes(record(padded, ch3="展望。"))
    assert run("ingest", str(tmp_path / "a.txt")).exit_code == 0
    strict = run("check", "--strict")
    assert strict.exit_code == 0, strict.output
    every = run("check", "--all").output.splitlines()
    assert "  note: [3] never cited" in every
    assert "  note: [4] = [1]: one work listed twice" in every
    late = MAIN.replace("迁移学习方法. 2025.", "迁移学习方法. 2027.")
    (tmp_path / "b.txt").write_bytes(record(late, ch3="展望[^3]。", uuid="f" * 32))
    run("ingest", str(tmp_path / "b.txt"))
    strict = run("check", "--strict")
    assert strict.exit_code == 1
    assert "  [3] (2027): dated after the review was received" in strict.output.splitlines()
    # the longest code keeps a space before its count
    assert "  reference-after-received  1" in run("stats").output.splitlines()


def _rows(store: Store) -> dict:
    out = {}
    for table, cols in (("flags", 't.code, t."where", t.detail'), ("refs", "t.n, t.ref_id")):
        out[table] = sorted(store.execute(
            f"SELECT v.uuid, {cols} FROM {table} t JOIN versions v ON v.id = t.version_id"
            " ORDER BY t.rowid").fetchall(), key=repr)
    out["parsed"] = sorted((u, repr(store.record(v).to_dict())) for u, v in store.execute(
        "SELECT uuid, id FROM versions").fetchall())
    return out


def test_an_archive_from_before_gets_the_new_flags_when_opened(tmp_path):
    """The first writer to open an archive of derived version 2 adds the lint flags a
    fresh ingest makes, to the rows and to the kept record (which `show` and the site
    read), for every version, current or not."""
    deliveries = [
        variant(),  # the sample: [12] = [11], chapter 7's [7]..[10] never cited
        variant(uuid="1" * 32, received="2023-05-01 08:00:00"),  # 2024 and 2025 works: late
        record(MAIN, ch3="展望[^3]。").decode(),  # nothing to flag
        record(MAIN, received="2025-07-01 10:00:00").decode(),  # a second version: [3] uncited
    ]
    fresh, old = tmp_path / "fresh", tmp_path / "old"
    for folder in (fresh, old):
        with Store.open(folder) as store:
            for text in deliveries:
                add_bytes(store, text.encode("utf-8"))
    with Store.open(old) as store:
        before = _rows(store)
    assert as_before_lint(old / "archive.sqlite3") == 3  # all but the one without flags
    with Store.open(old) as store, Store.open(fresh) as fresh_store:
        want = _rows(fresh_store)
        assert {c for _, c, *_ in want["flags"]} >= set(LINT_CODES)
        assert _rows(store) == want == before
        assert store.execute("SELECT value FROM meta WHERE key = 'derived_version'"
                             ).fetchone() == (str(DERIVED_VERSION),)
