"""Writes docs/cli.md, the command reference, from the commands' own ``--help`` and
the exit codes' table in ``archive/errors.py``.

    python docs/make_cli_reference.py

``tests/test_docs.py`` fails when docs/cli.md is not what this writes (a command or an
option added, renamed or described anew without the reference following), the way
sqlite-utils keeps its CLI reference with its code.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def exit_code_table() -> str:
    """The exit codes as a Markdown table, from ``archive.errors.EXIT_CODES`` (the README
    holds the same table: tests/test_exit_codes.py checks it)."""
    from archive.errors import EXIT_CODES

    rows = ["| code | kind | when |", "|---:|---|---|"]
    rows += [f"| {code} | {name} | {meaning.replace('|', '&#124;')} |" for code, name, meaning in EXIT_CODES]
    return "\n".join(rows)


def reference() -> str:
    import click
    from click.testing import CliRunner

    import cli

    runner = CliRunner()
    out = ["# `reviews` command reference",
           "",
           "Generated from each command's `--help` by `python docs/make_cli_reference.py`;",
           "`tests/test_docs.py` checks that it is current.",
           ""]
    group: click.Group = cli.main
    commands = [(None, group)] + [(name, group.commands[name]) for name in sorted(group.commands)]
    for name, _ in commands:
        args = [name, "--help"] if name else ["--help"]
        res = runner.invoke(group, args, prog_name="reviews", terminal_width=100)
        title = f"reviews {name}" if name else "reviews"
        out += [f"## `{title}`", "", "```", res.output.rstrip(), "```", ""]
    out += ["## Exit codes", "",
            "Every command ends with one of these (an error prints one line on stderr, "
            "`Error: ...`, naming the file or the reason):", "",
            exit_code_table(), ""]
    return "\n".join(out)


def main() -> None:
    (HERE / "cli.md").write_text(reference(), "utf-8")
    print(f"wrote {HERE / 'cli.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
