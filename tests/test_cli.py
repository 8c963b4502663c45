"""The `reviews` CLI through click's CliRunner, with exact output, and once as installed."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import main

UUID = "e051ad472c3d4412ba23cc0b05bfdbab"
FLAGS = ("heading-level-mismatch,local-references,missing-chapter,placeholder-table,"
         "reference-duplicate,reference-no-year,reference-uncited,truncated")


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def run(data_dir):
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, env={"REVIEWS_DATA": str(data_dir)}, catch_exceptions=False)

    return invoke


@pytest.fixture
def drop(tmp_path, sample_bytes, sample_text) -> Path:
    d = tmp_path / "drop"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_bytes(sample_bytes)
    second = sample_text.replace(UUID, "0123456789abcdef0123456789abcdef").replace("2025-11-21 19:20:13", "2025-11-23 08:00:00")
    (d / "sub" / "b.txt").write_text(second.replace("深度学习在图像识别领域的最新进展", "小样本学习综述", 1))
    (d / "empty.txt").write_bytes(b"")
    (d / "page.txt").write_text("<!doctype html><html><head></head></html>")
    (d / "notes.md").write_text("not matched by the glob")
    return d


def test_ingest_summary_and_exit_status(run, drop, data_dir):
    r = run("ingest", str(drop))
    assert r.exit_code == 1
    assert r.output == (
        f"created the archive folder {data_dir}\n"
        f"refused {drop}/empty.txt: empty file\n"
        f"refused {drop}/page.txt: an HTML page, not a callback record\n"
        "2 added, 0 new versions, 0 unchanged, 2 refused\n"
    )
    again = run("ingest", str(drop / "a.txt"))
    assert again.exit_code == 0
    assert again.output == "0 added, 0 new versions, 1 unchanged, 0 refused\n"


def test_ingest_stdin_and_new_version(run, sample_text):
    assert run("ingest", "-", input=sample_text.encode()).output.endswith("1 added, 0 new versions, 0 unchanged, 0 refused\n")
    later = sample_text.replace("2025-11-21 19:20:13", "2025-12-01 10:00:00").replace("结论与展望", "总结与展望")
    r = run("ingest", "-", input=later.encode())
    assert r.output == "0 added, 1 new versions, 0 unchanged, 0 refused\n"
    lines = run("show", "e051", "--versions").output.splitlines()
    assert len(lines) == 3 and lines[1].startswith("* v2  接收时间 2025-12-01 10:00:00")
    assert lines[0].startswith("  v1  接收时间 2025-11-21 19:20:13")


def test_list_exact(run, drop):
    run("ingest", str(drop))
    r = run("list")
    assert r.output == (
        "01234567  2025-11-23 08:00  小样本学习综述  (flags: " + FLAGS + ")\n"
        "e051ad47  2025-11-21 19:20  深度学习在图像识别领域的最新进展  (flags: " + FLAGS + ")\n"
    )
    assert run("list", "--topic", "小样本").output.startswith("01234567  ")
    assert run("list", "--until", "2025-11-22").output.startswith("e051ad47  ")
    assert run("list", "--flag", "crlf").output == "no reviews match\n"
    bad = run("list", "--flag", "nosuchflag")
    assert bad.exit_code == 2 and "no quality flag 'nosuchflag'; the flags are: " in bad.output
    assert "truncated" in bad.output
    assert len(run("list", "--limit", "1").output.splitlines()) == 1
    rows = json.loads(run("list", "--json").output)
    assert [row["uuid"] for row in rows] == ["0123456789abcdef0123456789abcdef", UUID]


def test_list_bad_date_is_one_line(run):
    r = run("list", "--since", "2025-13-01")
    assert r.exit_code == 2  # a usage error, as click's own bad values
    assert r.output == "Error: --since '2025-13-01': expected a date YYYY-MM-DD\n"


def test_show_and_section(run, drop):
    run("ingest", str(drop))
    out = run("show", "e051").output
    assert out.startswith("深度学习在图像识别领域的最新进展\nUUID      " + UUID + "\n接收时间  2025-11-21 19:20:13\n")
    assert "      8.1.2 模型透明度与伦理规范   [missing from content]\n" in out
    assert "  [13] 图像识别算法评价指标" in out and "(cited 4x," in out
    assert out.endswith("  7.2.2 missing from the content (无监督学习的最新进展)\n" + "".join(
        f"  {n} missing from the content ({t})\n" for n, t in [
            ("7.3", "跨学科融合与创新"), ("7.3.1", "神经科学与深度学习的结合"), ("7.3.2", "量子计算与图像识别的潜在结合"),
            ("8.1.2", "模型透明度与伦理规范"), ("8.2", "行业监管与政策影响"), ("8.2.1", "数据隐私保护法规"),
            ("8.2.2", "AI伦理与社会责任")]) + "  [12] = [11]: one work listed twice\n" + "".join(
        f"  [{n}] of chapter 7 never cited\n" for n in (7, 8, 9, 10)))
    sec = run("show", UUID, "--section", "8.1").output
    assert sec.startswith("### 8.1 模型评估与认证标准\n\n#### 8.1.1 国际标准组织的最新指南\n\n国际标准组织")
    assert sec.endswith("强调了模型的可解释性、可追溯\n")
    data = json.loads(run("show", "e051", "--json").output)
    assert data["uuid"] == UUID and len(data["sections"]) == 57 and data["versions"][0]["is_current"]
    # the abstract and the reference list, by either name; a section the outline lists
    # but the content lacks; --raw with --section
    for name in ("abstract", "摘要"):
        text = run("show", "e051", "--section", name).output
        assert text.startswith("## 摘要\n\n") and "关键词：" in text
    refs = run("show", "e051", "--section", "参考文献").output
    assert refs.startswith("## 参考文献\n\n[1] ") and refs.count("\n[") >= 14
    missing = run("show", "e051", "--section", "7.3")
    assert missing.exit_code == 2 and missing.output == (
        "Error: section 7.3 is in the outline (跨学科融合与创新) but missing from the content "
        "of review e051ad47\n")
    assert "has no section 99" in run("show", "e051", "--section", "99").output
    both = run("show", "e051", "--section", "8.1", "--raw")
    assert both.exit_code == 2 and "does not combine with --section" in both.output


def test_show_raw_is_byte_exact(run, tmp_path, sample_text):
    original = ("\ufeff" + sample_text).replace("\n", "\r\n").encode("utf-8")
    (tmp_path / "crlf.txt").write_bytes(original)
    run("ingest", str(tmp_path / "crlf.txt"))
    assert run("show", "e051", "--raw").stdout_bytes == original


def test_show_unknown_and_ambiguous_ids(run, drop, sample_text):
    run("ingest", str(drop))
    r = run("show", "ffff")
    assert r.exit_code == 2 and r.output.count("\n") == 1 and r.output.startswith("Error: ")
    third = sample_text.replace(UUID, "e051ffff2c3d4412ba23cc0b05bfdbab")
    run("ingest", "-", input=third.encode())
    amb = run("show", "e051")
    assert amb.exit_code == 2
    assert amb.output == (
        "Error: id prefix 'e051' matches 2 reviews: e051ad472c3d4412ba23cc0b05bfdbab, e051ffff2c3d4412ba23cc0b05bfdbab\n"
    )
    assert run("show", "e051", "--section", "99").exit_code == 2


def test_check_exact_and_strict(run, drop, tmp_path, sample_text):
    run("ingest", str(drop / "a.txt"))
    r = run("check", "--strict")
    assert r.exit_code == 1
    defects = [
        "e051ad47  深度学习在图像识别领域的最新进展",
        "  [11] reference without a year",
        "  [12] reference without a year",
        "  7.2.1 placeholder table",
        "  8.1.1 truncated",
        "  7.2.2 missing from the content (无监督学习的最新进展)",
        "  7.3 missing from the content (跨学科融合与创新)",
        "  7.3.1 missing from the content (神经科学与深度学习的结合)",
        "  7.3.2 missing from the content (量子计算与图像识别的潜在结合)",
        "  8.1.2 missing from the content (模型透明度与伦理规范)",
        "  8.2 missing from the content (行业监管与政策影响)",
        "  8.2.1 missing from the content (数据隐私保护法规)",
        "  8.2.2 missing from the content (AI伦理与社会责任)",
    ]
    assert r.output == "\n".join(defects + ["12 defects in 1 of 1 reviews; 7 notes (--all shows them)", ""])
    every = run("check", "--all").output.splitlines()
    assert "  note: 7 has its own reference list" in every
    assert "  note: heading levels differ: outline chapters use ##, content ###" in every
    assert "  note: [12] = [11]: one work listed twice" in every
    assert "  note: [7] of chapter 7 never cited" in every
    assert every[-1] == "12 defects in 1 of 1 reviews; 7 notes"
    assert run("check").exit_code == 0
    js = json.loads(run("check", "e051", "--json").output)
    assert js[0]["uuid"] == UUID
    assert {"code": "truncated", "where": "8.1.1", "detail": "", "severity": "defect"} in js[0]["flags"]
    assert {"code": "crlf", "where": "", "detail": "", "severity": "note"} not in js[0]["flags"]
    # a review with notes only passes --strict; a repeated problem is shown once, counted
    clean = sample_text.replace(UUID, "0" * 31 + "5")
    (tmp_path / "n.txt").write_bytes(clean.replace("\n", "\r\n").encode("utf-8"))
    run("ingest", str(tmp_path / "n.txt"))
    notes = run("check", "--all", "0" * 31 + "5").output.splitlines()
    assert "  note: CRLF line ends" in notes


def test_check_counts_a_repeated_problem_once(run, tmp_path, sample_text):
    first = "图像识别技术是计算机视觉领域的重要研究方向"  # opens section 1.1
    text = sample_text.replace(first, "图像识别[^99]技术是[^99]计算机视觉领域的重要研究方向", 1)
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    run("ingest", str(tmp_path / "d.txt"))
    lines = run("check").output.splitlines()
    assert "  [^99] dangling in 1.1 (×2)" in lines
    assert sum("[^99]" in line for line in lines) == 1


def test_stats_exact(run, drop):
    run("ingest", str(drop / "a.txt"))
    counts, *charts = run("stats").output.split("\n\n")
    assert counts == "\n".join([
        "reviews    1", "versions   1", "references 24", "citations  81", "dangling   0",
        "defects    12", "  missing-chapter         8", "  reference-no-year       2",
        "  placeholder-table       1", "  truncated               1",
        "notes      7", "  reference-uncited       4", "  heading-level-mismatch  1",
        "  local-references        1", "  reference-duplicate     1",
    ])
    assert [c.split("\n")[0] for c in charts] == [
        "reviews received per month", "most cited works (citations)",
        "topics with the most reviews", "reviews with each defect"]
    assert charts[0] == "reviews received per month\n  2025-11 " + "█" * 30 + " 1"
    assert charts[3].split("\n")[1:] == [
        "  missing-chapter   " + "█" * 30 + " 1", "  placeholder-table " + "█" * 30 + " 1",
        "  reference-no-year " + "█" * 30 + " 1", "  truncated         " + "█" * 30 + " 1", ""]


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        r = runner.invoke(main, [name, "--help"])
        assert r.exit_code == 0, name
        assert "Example" in r.output and f"reviews {name}" in r.output, name


def test_version():
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0 and r.output.startswith("reviews, version ")


def test_ingest_without_paths_is_a_usage_error(run):
    r = run("ingest")
    assert r.exit_code == 2 and "give files, folders or - (standard input), or --watch DIR" in r.output


def test_installed_command(tmp_path, drop):
    exe = _installed()
    assert exe != "None", "the reviews console script is not installed (pip install -e .)"
    env = dict(os.environ, REVIEWS_DATA=str(tmp_path / "installed"))
    p = subprocess.run([str(exe), "ingest", "--quiet", str(drop / "a.txt")], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.endswith("1 added, 0 new versions, 0 unchanged, 0 refused\n")
    p = subprocess.run([str(exe), "show", "nope-not-hex"], env=env, capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and p.stderr.startswith("Error: ")


def _installed() -> str:
    exe = Path(sys.executable).with_name("reviews")
    return str(exe if exe.exists() else shutil.which("reviews"))


def _run_on_a_terminal(args, env) -> tuple[int, str]:
    """Run the installed command with a pseudo-terminal as stdout/stderr."""
    import pty

    master, slave = pty.openpty()
    p = subprocess.Popen([_installed(), *args], env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return p.wait(), b"".join(chunks).decode("utf-8", "replace")


# (slow tier: a CLI run on a pseudo-terminal and another on a pipe, ~1.7 s of CPU)
@pytest.mark.slow
def test_progress_bar_on_a_terminal_only(tmp_path, drop):
    env = dict(os.environ, REVIEWS_DATA=str(tmp_path / "tty"))
    code, out = _run_on_a_terminal(["ingest", str(drop / "a.txt"), str(drop / "sub")], env)
    assert code == 0 and "ingesting" in out and "2/2" in out
    code, out = _run_on_a_terminal(["ingest", "--quiet", str(drop / "a.txt")], env)
    assert code == 0 and "ingesting" not in out
    assert out.strip() == "0 added, 0 new versions, 1 unchanged, 0 refused"
    code, out = _run_on_a_terminal(["reindex"], env)  # the same bar, for indexing
    assert code == 0 and "indexing" in out and "2/2" in out
    code, out = _run_on_a_terminal(["reindex", "--json"], env)  # JSON alone
    assert code == 0 and json.loads(out) == {"indexed": 2}
    code, out = _run_on_a_terminal(["site", str(tmp_path / "site")], env)  # and the site's
    assert code == 0 and "building" in out and "2/2" in out


@pytest.mark.slow
def test_watch_until_interrupted(tmp_path, sample_bytes):
    import signal
    import time

    folder = tmp_path / "watched"
    folder.mkdir()
    env = dict(os.environ, REVIEWS_DATA=str(tmp_path / "w"))
    # (a test run started in the background has SIGINT ignored, and children inherit
    # that: the watcher gets Ctrl+C's usual handling back, as on a terminal)
    p = subprocess.Popen([_installed(), "ingest", "--watch", str(folder)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        (folder / "r.txt.part").write_bytes(sample_bytes[:1000])  # still being written: ignored
        (folder / "r.txt.part").rename(folder / "r.txt")
        (folder / "r.txt").write_bytes(sample_bytes)
        for _ in range(300):  # poll the archive, up to 30 s
            listing = subprocess.run([_installed(), "list", "--json"], env=env, capture_output=True, text=True)
            if listing.returncode == 0 and json.loads(listing.stdout):
                break
            time.sleep(0.1)
        assert [r["uuid"] for r in json.loads(listing.stdout)] == [UUID]
    finally:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    assert p.returncode == 0
    assert out == f"added {folder / 'r.txt'}\n1 added, 0 new versions, 0 unchanged, 0 refused\n"
    assert err.startswith(f"created the archive folder {tmp_path / 'w'}\n"
                          f"watching {folder} for *.txt (Ctrl+C to stop)\n") and err.endswith("stopped\n")
    # a service manager stops it with SIGTERM: the same clean stop
    p = subprocess.Popen([_installed(), "ingest", "--watch", str(folder)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p.terminate()
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0 and err.endswith("stopped\n")


# -- search, refs, reindex ------------------------------------------------------------------
def test_search_exact_output_and_json(run, drop):
    run("ingest", str(drop / "a.txt"))
    r = run("search", "残差网络")
    assert r.output == (
        "e051ad472c3d  2025-11-21  深度学习在图像识别领域的最新进展  (1 section)\n"
        "  2.1.1 深度残差网络（ResNet）的应用\n"
        "    深度残差网络（Residual Network, ResNet）通过引入残差模块，解决了深度神经网络中的梯度消失与梯度爆炸问题。"
        "这种设计使得模型能够训练至数百层，从而显著提升了图像识别的准确率。研究表明，ResNet在ImageNet数据集…\n"
        "1-1 of 1 review\n"
    )
    js = json.loads(run("search", "残差网络", "--json").output)
    assert js["reviews"][0]["uuid"] == UUID
    assert [p["text"] for p in js["reviews"][0]["sections"][0]["snippet"] if p["match"]] == ["残差网络"]
    assert run("search", "topic:图像识别", "section:4.2", "对抗").output.splitlines()[1] == "  4.2.1 对抗样本的识别与防御"
    assert run("search", "残差网络", "--until", "2025-11-20").output == "0 reviews\n"
    assert run("search", "残差网络 until:2025-11-20").output == "0 reviews\n"


def test_search_ids_only(run, drop, tmp_path, sample_text):
    run("ingest", str(drop / "a.txt"))
    other = sample_text.replace(UUID, "0" * 31 + "1").replace("2025-11-21 19:20:13", "2025-01-01 00:00:00")
    (tmp_path / "b.txt").write_text(other, encoding="utf-8")
    run("ingest", str(tmp_path / "b.txt"))
    r = run("search", "-l", "残差网络")
    assert r.exit_code == 0 and r.stdout == f"{UUID}\n{'0' * 31}1\n"  # full ids, rank order, nothing else
    assert run("search", "--ids", "残差网络", "since:2025-06-01").stdout == f"{UUID}\n"
    assert json.loads(run("search", "-l", "残差网络", "--json").stdout) == [UUID, "0" * 31 + "1"]
    assert run("search", "-l", "没有这个词").stdout == ""


def test_search_syntax_error_is_one_line(run, drop):
    run("ingest", str(drop / "a.txt"))
    r = run("search", 'foo"')
    assert r.exit_code == 2 and r.output == "Error: unbalanced quote: '\"' has no closing quote\n"
    assert run("search", "topic:").output == "Error: empty field 'topic:': write topic:something\n"


def test_search_rebuilds_a_missing_index_and_says_so(run, drop, data_dir):
    run("ingest", str(drop / "a.txt"))
    shutil.rmtree(data_dir / "index")
    r = run("search", "残差网络")
    assert r.stderr == "search index was missing; built it from the archive (1 reviews)\n"
    assert r.stdout.endswith("1-1 of 1 review\n")
    assert run("reindex").output == "indexed 1 reviews\n"


def test_refs_exact_output(run, drop):
    run("ingest", str(drop / "a.txt"))
    lines = run("refs", "钻孔图像").output.splitlines()
    assert lines[0] == "rd8ccfb2b1e  基于钻孔图像的混凝土坝裂缝检测与预测的12种迁移学习模型对比分析  (8 citations in 1 review)"
    assert lines[1:3] == [
        "  e051ad472c3d  2025-11-21  abstract 摘要",
        "    例如，EfficientNetB0模型在裂缝图像分类中准确率达91%[1]，迁移学习结合数据增强技术显著提升围岩图像分类的泛化性与运行效率[2]。",
    ]
    assert len(lines) == 1 + 2 * 8
    # [11] and [12] are one work under two spellings
    merged = run("refs", "煤化工").output.splitlines()
    assert merged[0].startswith("rcf92a93afb  机械行业深度研究") and merged[1].startswith("    also: ")
    assert run("refs", "--top", "2").output == (
        "rd8ccfb2b1e     8 citations    1 review  基于钻孔图像的混凝土坝裂缝检测与预测的12种迁移学习模型对比分析\n"
        "re76f4bf595     7 citations    1 review  基于EfficientNet深度迁移学习的现场围岩图像智能分类\n"
    )
    assert run("refs", "--dangling").output == "no dangling citations\n"
    assert run("refs", "没有这篇文献").output == "no reference matches\n"
    # an id prefix, as for reviews; many works: the first --limit, then how many more
    assert run("refs", "rd8ccf").output.splitlines()[0].startswith("rd8ccfb2b1e  ")
    many = run("refs", "的", "--limit", "2").output.splitlines()
    heads = [line for line in many if line.startswith("r") and "  (" in line]
    assert len(heads) == 2 and many[-1].startswith("… ") and many[-1].endswith(
        " more works, use --all (or --limit N)")
    assert len([x for x in run("refs", "的", "--all").output.splitlines() if x.startswith("r")]) > 2
    js = json.loads(run("refs", "rd8ccfb2b1e", "--json").output)
    assert js[0]["ref_id"] == "rd8ccfb2b1e" and js[0]["uses"][0]["uuid"] == UUID
    assert run("refs").exit_code == 2


def test_site_build_is_incremental_and_says_so(run, drop, tmp_path, sample_text):
    out = tmp_path / "site"
    run("ingest", str(drop / "a.txt"))
    first = run("site", str(out)).output.splitlines()
    assert first[0].endswith("0 unchanged, 0 removed (1 of 1 search partitions recomputed)")
    assert first[1] == f"open {out}/index.html or run: reviews serve {out}"
    pages = int(first[0].split()[0])
    again = run("site", str(out)).output.splitlines()[0]
    assert again.startswith(f"{pages} pages, ") and ": 0 written, " in again
    assert again.endswith("0 removed (0 of 1 search partitions recomputed)")
    assert (out / "index.html").is_file() and not list(out.glob(".*cache*"))


def test_serve_without_a_site_is_one_line(run, tmp_path):
    r = run("serve", str(tmp_path / "nothing"))
    assert r.exit_code == 2
    assert r.output == f"Error: {tmp_path}/nothing holds no built site (run `reviews site {tmp_path}/nothing` first)\n"


def test_command_start_up_skips_what_search_does_not_use(tmp_path, drop):
    """The CLI defers two of Whoosh's start-up imports (asyncio via cached_property,
    urllib.request), and a search uses the index reader, not Whoosh's searcher: a
    search process loads none of them, and urllib.request still works when used."""
    data = str(tmp_path / "d")
    ingest = CliRunner().invoke(main, ["ingest", "--data-dir", data, str(drop / "a.txt")])
    assert ingest.exit_code == 0, ingest.output
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "import cli\n"
        f"r = CliRunner().invoke(cli.main, ['search', '--data-dir', {data!r}, '-l', '残差网络'])\n"
        "assert r.output.strip() == 'e051ad472c3d4412ba23cc0b05bfdbab', r.output\n"
        "print(sorted(m for m in ('asyncio', 'http.client', 'whoosh.searching') if m in sys.modules))\n"
        "import urllib.request\n"
        "print(urllib.request.pathname2url('/a b'), 'http.client' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["[]", "/a%20b True"]


def test_search_on_an_empty_archive_says_so(tmp_path):
    """A fresh archive, and one whose index was rebuilt empty: no traceback, a hint."""
    from archive.store import Store

    for prepare in ([], ["reindex"]):
        data = tmp_path / f"empty-{len(prepare)}"
        Store.open(data).close()  # an archive with nothing in it yet
        if prepare:
            assert CliRunner().invoke(main, [*prepare, "--data-dir", str(data)]).exit_code == 0
        for args in (["深度学习"], ["-l", "深度学习"], ["uuid:0", "-x"]):
            r = CliRunner().invoke(main, ["search", "--data-dir", str(data), *args])
            assert r.exit_code == 0, r.output
            assert r.stderr == "no reviews yet; `reviews ingest FILES` adds some\n"
            assert r.stdout in ("0 reviews\n", "")


def test_search_says_when_the_index_is_behind(run, drop, data_dir):
    """A review stored but not indexed (an ingest stopped between storing and indexing,
    or a killed index update): the search still answers, and says so on stderr."""
    from archive.ingest import ingest
    from archive.store import Store

    run("ingest", str(drop / "a.txt"))
    assert run("search", "残差网络").stderr == ""
    with Store.open(data_dir) as store:  # stores, does not index
        assert ingest(store, [str(drop / "sub" / "b.txt")]).added == 1
    r = run("search", "-l", "残差网络")
    assert r.stdout == f"{UUID}\n"
    assert r.stderr == ("note: 1 review of the archive is not in the search index yet (an indexing "
                        "run was stopped?); `reviews reindex` adds them\n")
    run("reindex")
    r = run("search", "-l", "残差网络")
    assert r.stderr == "" and len(r.stdout.split()) == 2


def test_control_characters_never_reach_the_terminal(run, tmp_path, sample_text):
    """A topic and a section holding OSC/CSI escapes and bidi overrides: list, show,
    search and check print each of them visibly (<U+001B>), on a terminal and piped alike."""
    hostile = "\x1b]0;PWNED\x07\x1b[2J\u202e"
    text = sample_text.replace("主题: 深度学习在图像识别领域的最新进展",
                               f"主题: 深度学习{hostile}在图像识别领域的最新进展", 1)
    text = text.replace("图像识别技术是计算机视觉领域", f"图像识别技术{hostile}是计算机视觉领域", 1)
    (tmp_path / "h.txt").write_text(text, encoding="utf-8")
    assert run("ingest", str(tmp_path / "h.txt")).exit_code == 0
    for args in (["list"], ["show", UUID[:8]], ["show", UUID[:8], "--section", "1.1"],
                 ["search", "图像识别技术"], ["search", "topic:深度学习"], ["check", UUID[:8]],
                 ["refs", "钻孔图像"]):
        out = run(*args).output
        assert "PWNED" not in out or "\x1b]0;" not in out, args
        assert not any(c in out for c in "\x1b\x07\u202e"), (args, out[:200])
    assert ("深度学习<U+001B>]0;PWNED<U+0007><U+001B>[2J<U+202E>在图像识别领域的最新进展"
            in run("list").output)  # each shown on its own; the rest of the text stays
    js = json.loads(run("search", "图像识别技术", "--json").output)  # JSON keeps it, escaped
    assert hostile in js["reviews"][0]["topic"]


def test_read_commands_work_on_a_read_only_archive(tmp_path, drop):
    """A mounted backup: the folder and the file read-only. Reading commands answer;
    an ingest says in one line that the archive is read-only. As root the commands run
    without root's file-access capabilities (util-linux setpriv)."""
    data = tmp_path / "ro"
    exe = str(Path(sys.executable).with_name("reviews"))
    env = dict(os.environ, REVIEWS_DATA=str(data))
    assert subprocess.run([exe, "ingest", "--quiet", str(drop / "a.txt")], env=env).returncode == 0
    for p in data.rglob("*"):
        p.chmod(0o555 if p.is_dir() else 0o444)
    data.chmod(0o555)
    caps = "-dac_override,-dac_read_search,-fowner"
    as_user = ([shutil.which("setpriv") or "setpriv", f"--inh-caps={caps}", f"--ambient-caps={caps}",
                f"--bounding-set={caps}"] if os.geteuid() == 0 else [])
    try:
        def reviews(*args):
            return subprocess.run([*as_user, exe, *args], env=env, capture_output=True, text=True)

        for args in (["list"], ["show", UUID[:8]], ["check", UUID[:8]], ["stats"],
                     ["refs", "钻孔图像"], ["search", "-l", "残差网络"]):
            r = reviews(*args)
            assert r.returncode in (0, 1) and "Traceback" not in r.stderr, (args, r.stderr)
            assert r.stdout and "read-only" not in r.stderr, (args, r.stderr)
        assert reviews("search", "-l", "残差网络").stdout == f"{UUID}\n"
        r = reviews("dupes")  # its sketches made in memory
        assert r.returncode == 0 and r.stderr == "no near-duplicate reviews at similarity 0.80 or more\n"
        # the site too: the index is up to date, so it is read as it is (not locked)
        r = reviews("site", "--quiet", str(tmp_path / "site"))
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        assert (tmp_path / "site" / "search.html").is_file()
        r = reviews("ingest", str(drop / "sub" / "b.txt"))
        assert r.returncode == 4 and "Traceback" not in r.stderr
        assert r.stderr.strip().splitlines()[-1].startswith(f"Error: the archive at {data}")
        assert "is read-only here" in r.stderr
    finally:
        for p in [data, *data.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)


def test_every_read_command_on_an_empty_archive_says_so(tmp_path):
    from archive.store import Store

    data = str(tmp_path / "empty")
    Store.open(data).close()
    for args in (["list"], ["stats"], ["check"], ["check", "--strict"], ["refs", "--top", "3"],
                 ["search", "深度学习"], ["search", "-l", "x"]):
        r = CliRunner().invoke(main, [args[0], "--data-dir", data, *args[1:]])
        assert r.exit_code == 0, (args, r.output)
        assert "no reviews yet; `reviews ingest FILES` adds some" in r.output, args


def test_a_named_folder_without_an_archive_is_not_made_one(tmp_path, drop):
    """--data-dir (or REVIEWS_DATA) naming a folder that holds no archive: reading
    commands say so and create nothing; only an ingest creates it, and says so."""
    records = drop  # e.g. the folder of the records themselves
    for args in (["list"], ["search", "x"], ["stats"], ["check"], ["reindex"], ["show", "e051"],
                 ["refs", "--top", "1"]):
        r = CliRunner().invoke(main, [args[0], "--data-dir", str(records), *args[1:]])
        assert r.exit_code == 2 and r.output.startswith(f"Error: no archive at {records} "), (args, r.output)
    assert not (records / "archive.sqlite3").exists() and not (records / "index").exists()
    fresh = tmp_path / "new" / "archive"
    r = CliRunner().invoke(main, ["ingest", "--data-dir", str(fresh), str(drop / "a.txt")])
    assert r.exit_code == 0 and r.stderr.startswith(f"created the archive folder {fresh}\n")
    assert CliRunner().invoke(main, ["list", "--data-dir", str(fresh)]).exit_code == 0


def test_an_index_failure_after_ingest_says_the_records_are_stored(run, drop, data_dir, monkeypatch):
    """The disk fills while the index is updated after an ingest: the records are in the
    archive already; one line says so and names the command that finishes the job."""
    import errno as _errno

    from index import indexer

    def full(*args, **kwargs):
        raise OSError(_errno.ENOSPC, "No space left on device", str(data_dir / "index"))

    monkeypatch.setattr(indexer, "update", full)
    r = run("ingest", str(drop / "a.txt"))
    assert r.exit_code == 3
    assert r.output.splitlines()[-1] == (
        "Error: the disk is full: the records are stored in the archive (1 added, 0 new "
        "versions), but the search index could not be brought up to date; `reviews reindex` "
        "does it once the cause is fixed")
    monkeypatch.undo()
    assert "1 reviews" not in run("list").output and UUID[:8] in run("list").output
    assert run("reindex").exit_code == 0 and run("search", "-l", "残差网络").output == f"{UUID}\n"


def test_versions_are_numbered_per_review(run, drop, tmp_path, sample_text):
    """Version numbers are per review (1, 2 ...), not the archive's row ids."""
    run("ingest", str(drop))  # two reviews: archive ids 1 and 2
    other = "0123456789abcdef0123456789abcdef"
    b2 = (drop / "sub" / "b.txt").read_text().replace("2025-11-23 08:00:00", "2025-12-24 08:00:00")
    (tmp_path / "b2.txt").write_text(b2.replace("小样本学习综述", "小样本学习综述（修订）", 1))
    run("ingest", str(tmp_path / "b2.txt"))  # archive id 3: this review's version 2
    lines = run("show", other[:8], "--versions").output.splitlines()
    assert lines[0].startswith("  v1  接收时间 2025-11-23 08:00:00")
    assert lines[1].startswith("* v2  接收时间 2025-12-24 08:00:00")
    assert "（修订）" not in run("show", other[:8], "--version", "1").output.splitlines()[0]
    assert "（修订）" in run("show", other[:8], "--version", "2").output.splitlines()[0]
    r = run("show", other[:8], "--version", "3")
    assert r.exit_code == 2 and "has 2 versions, not 3; see --versions" in r.output
    assert [v["number"] for v in json.loads(run("show", other[:8], "--versions", "--json").output)] == [1, 2]


def test_one_reading_of_a_day(tmp_path, drop):
    """`list --since`, `search --since` and `since:` refuse the same malformed days with
    the same words (20251101 included, which Python's fromisoformat would take)."""
    from click.testing import CliRunner

    from cli import main

    runner = CliRunner()
    env = {"REVIEWS_DATA": str(tmp_path)}
    runner.invoke(main, ["ingest", "--quiet", str(drop / "a.txt")], env=env)
    for bad in ("20251101", "2025-13-01", "2025-02-30"):
        outs = [runner.invoke(main, args, env=env) for args in (
            ["list", "--since", bad], ["search", "--since", bad, "研究"], ["search", f"研究 since:{bad}"])]
        for r in outs:
            assert r.exit_code != 0 and "expected a date YYYY-MM-DD" in r.output, (bad, r.output)


def _archive_with(tmp_path, name, record: bytes) -> Path:
    folder = tmp_path / name
    r = CliRunner().invoke(main, ["ingest", "--quiet", "--data-dir", str(folder), "-"], input=record)
    assert r.exit_code == 0, r.output
    return folder


def test_data_dir_before_the_command_and_its_precedence(tmp_path, sample_text):
    """--data-dir is taken before the command too (like git -C); the command's own wins
    over the group's, which wins over REVIEWS_DATA."""
    other = "0123456789abcdef0123456789abcdef"
    first = _archive_with(tmp_path, "first", sample_text.encode())
    second = _archive_with(tmp_path, "second", sample_text.replace(UUID, other).encode())
    runner = CliRunner()

    def ids(*args, env=None):
        r = runner.invoke(main, [*args], env={"REVIEWS_DATA": env} if env else {"REVIEWS_DATA": None})
        assert r.exit_code == 0, (args, r.output)
        return r.stdout.split()

    assert ids("--data-dir", str(first), "search", "-l", "残差网络") == [UUID]
    assert ids("--data-dir", str(second), "search", "-l", "残差网络", env=str(first)) == [other]
    assert ids("search", "-l", "残差网络", env=str(second)) == [other]
    assert ids("--data-dir", str(first), "search", "-l", "残差网络", "--data-dir", str(second)) == [other]
    listed = json.loads(" ".join(ids("--data-dir", str(first), "list", "--json", env=str(second))))
    assert [r["uuid"] for r in listed] == [UUID]
    # an error with no path of its own names the folder the group option chose
    empty = tmp_path / "empty"
    empty.mkdir()
    r = runner.invoke(main, ["--data-dir", str(empty), "list"])
    assert r.exit_code == 2 and r.output == f"Error: no archive at {empty} (`reviews ingest --data-dir {empty} FILES` makes one there)\n"
    assert "--data-dir" in runner.invoke(main, ["--help"]).output


def test_verify_a_sound_and_a_damaged_archive(tmp_path, sample_text):
    import sqlite3

    data = _archive_with(tmp_path, "data", sample_text.encode())
    runner = CliRunner()
    r = runner.invoke(main, ["--data-dir", str(data), "verify"])
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "no problems found\n")
    assert json.loads(runner.invoke(main, ["verify", "--json", "--data-dir", str(data)]).stdout) == {
        "ok": True, "problems": []}
    with sqlite3.connect(data / "archive.sqlite3") as db:  # one stored original changes
        db.execute("UPDATE versions SET raw = CAST(raw || x'0a' AS BLOB)")
    db.close()
    r = runner.invoke(main, ["verify", "--data-dir", str(data)])
    assert r.exit_code == 1
    assert r.stdout == "version 1: raw bytes do not match sha256\n" and r.stderr == "1 problem found\n"
    js = runner.invoke(main, ["verify", "--data-dir", str(data), "--json"])
    assert js.exit_code == 1 and json.loads(js.stdout) == {
        "ok": False, "problems": ["version 1: raw bytes do not match sha256"]} and js.stderr == ""
    with sqlite3.connect(data / "archive.sqlite3") as db:  # text where the bytes were: said, too
        db.execute("UPDATE versions SET raw = 'text'")
    db.close()
    r = runner.invoke(main, ["verify", "--data-dir", str(data)])
    assert (r.exit_code, r.stdout) == (1, "version 1: raw bytes stored as str\n")


def test_refs_modes_are_one_at_a_time(run, drop):
    run("ingest", str(drop / "a.txt"))
    for args in (["refs", "--top", "2", "--limit", "3"], ["refs", "--dangling", "--all"],
                 ["refs", "x", "--top", "2"], ["refs", "--top", "1", "--dangling"]):
        r = run(*args)
        assert r.exit_code == 2 and r.output.splitlines()[-1].startswith("Error: "), args
    top = json.loads(run("refs", "--top", "1", "--json").output)
    assert top == [{"ref_id": "rd8ccfb2b1e", "title": "基于钻孔图像的混凝土坝裂缝检测与预测的12种迁移学习模型对比分析",
                    "citations": 8, "reviews": 1}]
    assert json.loads(run("refs", "--dangling", "--json").output) == []
    assert "Three modes, one at a time" in run("refs", "--help").output


def test_every_command_that_prints_data_takes_the_one_json_option(run, drop):
    """One decorator gives --json: the same option everywhere, and the commands whose
    output is data have it."""
    from shell.output import output_options

    with_json = {name for name, c in main.commands.items()
                 if any(p.name == "as_json" for p in c.params)}
    assert with_json == {"ingest", "list", "show", "check", "stats", "search", "refs", "similar",
                         "verify", "reindex", "retract", "restore", "purge", "site", "dupes",
                         "merge-segments"}
    helps = {next(p.help for p in main.commands[n].params if p.name == "as_json") for n in with_json}
    assert helps == {"Print JSON (full UUIDs) for scripts."}
    assert output_options.__module__ == "shell.output"
    run("ingest", str(drop / "a.txt"))
    assert json.loads(run("reindex", "--json").output) == {"indexed": 1}
    assert json.loads(run("retract", "e051", "--reason", "test", "--json").output) == {
        "uuid": UUID, "retracted": True, "reason": "test"}
    assert json.loads(run("restore", "e051", "--json").output) == {"uuid": UUID, "restored": True}
    assert json.loads(run("purge", "e051", "--yes", "--json").output) == {
        "uuid": UUID, "purged": True, "versions": 1}
    assert json.loads(run("list", "--json").output) == []
