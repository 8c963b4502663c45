"""The one progress bar of the long commands (ingest, indexing, site): on stderr, and only
when it is a terminal, so that a script or a pipe gets the command's output alone."""
from __future__ import annotations

import sys

import click


def with_bar(label: str, quiet: bool, run, length: int = 0):
    """``run(on_progress)``, with a bar named ``label`` when stderr is a terminal and the
    command is not ``quiet`` (``on_progress`` None otherwise). ``on_progress(done,
    total, ...)`` is the API's callback: the bar follows ``total`` as it grows."""
    if quiet or not sys.stderr.isatty():
        return run(None)
    with click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True) as bar:
        def on_progress(done: int, total: int, *_):
            bar.length = total
            bar.update(done - bar.pos)

        return run(on_progress)
