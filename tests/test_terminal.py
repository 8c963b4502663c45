"""Record text on a terminal and in JSON (issue 22, fault 4): a control character is shown
on its own and never takes the text after it along; bidi overrides are shown too; JSON
escapes C0, C1 and bidi characters. Real records through the real CLI (CliRunner)."""
from __future__ import annotations

import json
import unicodedata

import pytest
from click.testing import CliRunner

from cli import main
from shell.output import plain
from tests.helpers import SAMPLE_UUID, variant

BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))]
SECTION = "图像识别技术是计算机视觉领域"  # the start of section 1.1's body


@pytest.fixture
def cli(tmp_path):
    runner = CliRunner()
    env = {"REVIEWS_DATA": str(tmp_path / "data")}

    def run(*args):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def _ingest(cli, tmp_path, text: str) -> None:
    (tmp_path / "r.txt").write_text(text, encoding="utf-8")
    assert cli("ingest", "--quiet", str(tmp_path / "r.txt")).exit_code == 0


@pytest.mark.parametrize("c", CONTROLS + BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_each_character_is_shown_on_its_own(c):
    shown = plain(f"前文{c}]0;标题\n后文[1]\t末")
    assert shown == f"前文<U+{ord(c):04X}>]0;标题\n后文[1]\t末"
    assert not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n" for ch in shown)


def test_escape_sequences_are_not_parsed_so_they_take_nothing_along():
    """What the old rules removed whole (OSC to BEL/ST or the end, CSI with its final
    byte) now loses only its control characters: the text a terminal would have eaten,
    up to the end of a section, stays."""
    for hostile, rest in (("\x9d", "0;x\n第二行\n第三行"), ("\x1b]", "0;x\n第二行"),
                          ("\x9b", "2J[12]后文"), ("\x1b[", "1] 引用")):
        assert plain(hostile + rest).endswith(rest), hostile


def test_a_stray_u009d_does_not_swallow_the_rest_of_a_section(cli, tmp_path):
    """The reported case: show printed 7 lines of 31 after a lone U+009D in a body."""
    _ingest(cli, tmp_path, variant())
    clean = cli("show", SAMPLE_UUID[:8], "--section", "1").output
    _ingest(cli, tmp_path, variant(replace=(SECTION, "图像识别技术\x9d是计算机视觉领域")))
    shown = cli("show", SAMPLE_UUID[:8], "--section", "1").output
    assert "图像识别技术<U+009D>是计算机视觉领域" in shown
    assert shown.count("\n") == clean.count("\n") > 7
    assert shown.replace("<U+009D>", "") == clean


def test_bidi_overrides_are_visible_in_terminal_output(cli, tmp_path):
    _ingest(cli, tmp_path, variant(topic="深度学习\u202egnp.exe\u202c综述",
                                   replace=(SECTION, "图像识别技术\u2066是\u2069计算机视觉领域")))
    listed = cli("list").output
    assert "深度学习<U+202E>gnp.exe<U+202C>综述" in listed and "\u202e" not in listed
    body = cli("show", SAMPLE_UUID[:8], "--section", "1.1").output
    assert "图像识别技术<U+2066>是<U+2069>计算机视觉领域" in body
    found = cli("search", "计算机视觉").output
    assert "<U+202E>" in found and not any(c in found for c in BIDI)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_json_escapes_c0_c1_and_bidi_and_keeps_the_text(cli, tmp_path):
    hostile = "\x1b[2J\x9b31m\x9d0;t\x07\u202e\u2067\x7f"
    _ingest(cli, tmp_path, variant(topic=f"深度学习{hostile}综述",
                                   replace=(SECTION, f"图像识别技术{hostile}是计算机视觉领域")))
    for args in (["show", SAMPLE_UUID[:8], "--json"], ["list", "--json"],
                 ["search", "计算机视觉", "--json"], ["show", SAMPLE_UUID[:8], "--section", "1.1", "--json"]):
        out = cli(*args).output
        raw = [c for c in out if c not in "\n" and (unicodedata.category(c) == "Cc" or c in BIDI)]
        assert raw == [], (args, raw)
        assert "深度学习" in out  # non-ASCII text stays as it is, not \\u-escaped
        assert any(hostile in s for s in _strings(json.loads(out))), args  # read back whole
    shown = json.loads(cli("show", SAMPLE_UUID[:8], "--json").output)
    assert shown["topic"] == f"深度学习{hostile}综述"  # the escapes read back as the text
    assert "\\u009b" in cli("list", "--json").output and "\\u202e" in cli("list", "--json").output


def test_an_error_message_shows_a_file_names_control_characters(cli, tmp_path):
    """A message names the file, and a file name may hold an escape sequence."""
    _ingest(cli, tmp_path, variant())
    odd = tmp_path / "no\x1b]0;x\x07dir" / "out.bib"
    r = cli("export", SAMPLE_UUID[:8], "-o", str(odd))
    assert r.exit_code != 0 and "\x1b" not in r.output and "\x07" not in r.output
    assert r.output.startswith(f"Error: cannot write {tmp_path}/no<U+001B>]0;x<U+0007>dir/out.bib: ")


def test_a_generator_prints_as_its_list_would_item_by_item(capsys):
    """`refs --json` of a common word prints work by work (a list of them would not fit
    in memory at 100k reviews): the same bytes as the list, escapes included."""
    from shell.output import echo_json

    items = [{"a": [1, {"b": "x\u009dy\u202e"}], "c": "研究"}, [], {"d": None}, "z"]
    for value in (items, items[:1], []):
        echo_json(value)
        whole = capsys.readouterr().out
        echo_json(item for item in value)
        assert capsys.readouterr().out == whole
        assert json.loads(whole) == value
