"""What a command prints: record text made safe for a terminal, JSON for scripts, and
``output_options``, the one ``--json`` every command that prints data takes (the model
is sqlite-utils' ``output_options``: one decorator, so that the option reads and
behaves the same everywhere)."""
from __future__ import annotations

import functools
import json
import re
from itertools import islice
from types import GeneratorType
from typing import Callable, Iterable

import click

#: Bidi embeddings, overrides and isolates: they reorder what follows them on a line.
_BIDI = "\u202a-\u202e\u2066-\u2069"
#: What a terminal must not be given as it is: C0 controls but tab and newline, DEL, C1
#: (ESC, CSI U+009B and OSC U+009D start sequences that retitle the terminal or move the
#: cursor) and the bidi characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
#: What JSON leaves raw though a terminal or an editor acts on it (json escapes C0 itself).
_JSON_RAW = re.compile(r"[\x7f-\x9f" + _BIDI + "]")


class Styled(str):
    """A line already cleaned by :func:`plain` and then styled (a highlight's escape
    sequences are ours): :func:`say` prints it as it is."""


def _json(obj, indent: str = "") -> str:
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    text = _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text.replace("\n", "\n" + indent) if indent else text


def echo_json(obj) -> None:
    """Print ``obj`` as JSON: non-ASCII text as it is, C0, DEL, C1 and bidi characters
    as ``\\u`` escapes (outside strings json.dumps writes ASCII only, so every one of
    them stands inside a string, where the escape means the same character). A generator
    is printed as a list, item by item as it yields them (the same bytes), so that a
    long answer is never whole in memory."""
    if not isinstance(obj, GeneratorType):
        click.echo(_json(obj))
        return
    first = True
    for item in obj:
        click.echo(("[\n  " if first else ",\n  ") + _json(item, "  "), nl=False)
        first = False
    click.echo("[]" if first else "\n]")


def plain(text: str) -> str:
    """Text from a record, safe to write to a terminal: each control or bidi character
    shown on its own as ``<U+009D>``. No escape sequence is parsed: a sequence's extent
    is the terminal's guess, and a rule that took one along took the text after a lone
    U+009D up to the end of its section."""
    return _CONTROL.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def say(text: str = "", err: bool = False) -> None:
    """Print a line that may hold record text (control characters removed)."""
    click.echo(text if isinstance(text, Styled) else plain(text), err=err)


def marked(pieces) -> Styled:
    """``[(text, is_match)]`` as one line, matches highlighted (plain when piped); the
    record's text is cleaned of control characters before the highlight is added."""
    return Styled("".join(click.style(plain(t), fg="red", bold=True) if m else plain(t)
                          for t, m in pieces))


def n(count: int, noun: str, width: int = 0) -> str:
    """``1 review``, ``2 reviews`` (the count right-aligned in ``width``)."""
    return f"{count:>{width}} {noun}{'' if count == 1 else 's'}"


class Output:
    """How the command was asked to print: JSON (``--json``) or text lines. Each form is
    made only when it is the one printed (a callable is called then)."""

    def __init__(self, as_json: bool):
        self.json = as_json

    def show(self, data, lines: Iterable[str] | Callable[[], Iterable[str]] = ()) -> None:
        """``data`` as JSON with ``--json``, else each of ``lines`` on stdout."""
        if self.json:
            echo_json(data() if callable(data) else data)
            return
        # one write (`search -l` prints one line per matching review), or one per 10,000
        # lines: a long answer (`refs --all` of a common word) is never whole in memory
        # (plain leaves newlines as they are: lines with no styled one among them are
        # cleaned joined, in one pass)
        given = iter(lines() if callable(lines) else lines)
        while chunk := list(islice(given, 10_000)):
            if any(isinstance(line, Styled) for line in chunk):
                click.echo("\n".join(line if isinstance(line, Styled) else plain(line)
                                     for line in chunk))
            else:
                click.echo(plain("\n".join(chunk)))

    def note(self, text: str) -> None:
        """A line for a person on stderr (``no reviews match``), left out with ``--json``,
        whose empty list says the same to a script."""
        if not self.json:
            say(text, err=True)


def output_options(f):
    """Adds ``--json`` to a command and hands it ``out``, an :class:`Output`, to print
    through."""
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (full UUIDs) for scripts.")
    @functools.wraps(f)
    def command(*args, as_json: bool, **kwargs):
        return f(*args, out=Output(as_json), **kwargs)

    return command
