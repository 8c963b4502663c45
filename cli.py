"""`reviews`: the command-line shell over the archive, index and site APIs.

Each command parses its options, calls the API and prints. Errors from the API
(:class:`archive.errors.ArchiveError`), and OSErrors, become one-line messages that end
the command with the exit code of their kind (:data:`archive.errors.EXIT_CODES`).
"""
from __future__ import annotations

import importlib
import json
import os
import re
import sys
import types
from functools import cached_property as _cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import click


def _light_whoosh() -> None:
    """Two imports Whoosh makes at start-up and a search never uses, deferred in this
    process only (not in the library), worth ~50 ms of every command:

    * the ``cached_property`` backport, for one decorator; it imports asyncio. Whoosh
      gets the standard library's decorator, which caches the same way (in the
      instance's ``__dict__``);
    * ``urllib.request`` (with http.client and email), for ``urlretrieve`` in
      ``whoosh.compat``. It gets a stand-in that imports the real module, and
      becomes it, the first time anything uses it.
    """
    if "cached_property" not in sys.modules:
        stand_in = types.ModuleType("cached_property")
        stand_in.cached_property = _cached_property  # type: ignore[attr-defined]
        sys.modules["cached_property"] = stand_in
    if "urllib.request" not in sys.modules:
        import urllib

        def real():
            del sys.modules["urllib.request"]
            module = importlib.import_module("urllib.request")
            urllib.request = module  # type: ignore[attr-defined]
            return module

        later = types.ModuleType("urllib.request")
        later.urlretrieve = lambda *a, **k: real().urlretrieve(*a, **k)  # type: ignore[attr-defined]
        def attribute(name):  # the import system probes __path__ & co.: those stay absent
            if name.startswith("__"):
                raise AttributeError(name)
            return getattr(real(), name)

        later.__getattr__ = attribute  # type: ignore[attr-defined]
        sys.modules["urllib.request"] = later
        urllib.request = later  # type: ignore[attr-defined]


_light_whoosh()

from archive.config import data_dir as resolve_data_dir
from archive.errors import (BUSY, DISK_FULL, FAILED, FINDINGS, INTERRUPTED, OK, UNREACHABLE, USAGE,
                            ArchiveError, exit_code as code_of)

if TYPE_CHECKING:
    from archive.store import Store


class _OnFirstUse:
    """A module imported when a command first uses it, so that `reviews search` does
    not pay for the listing and reporting code it never calls."""

    def __init__(self, name: str):
        self._name, self._module = name, None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


report = _OnFirstUse("archive.report")


class Failure(click.ClickException):
    """One line on stderr, and the exit code of its kind (``archive.errors.EXIT_CODES``):
    the one way a command fails. The message may name a file or quote a record, so it is
    shown through :func:`plain`."""

    def __init__(self, message: str, exit_code: int = FAILED):
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def of(cls, err: BaseException, message: str | None = None) -> "Failure":
        """``err`` (an ArchiveError, an OSError...) as a Failure with its exit code."""
        return cls(str(err) if message is None else message, code_of(err))

    def format_message(self) -> str:
        return plain(self.message)


def _disk_full(detail: str = "") -> str:
    return f"the disk is full{detail}; free some space and run the command again"


class ArchiveGroup(click.Group):
    """Turns API errors into one-line messages with their exit codes instead of
    tracebacks; anything else unexpected too (``REVIEWS_DEBUG=1`` shows its traceback)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ArchiveError as e:
            raise Failure.of(e) from None
        except BrokenPipeError:  # `reviews ... | head`: the reader left; stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(OK)
        except OSError as e:
            if code_of(e) == DISK_FULL:
                raise Failure(_disk_full(f" (writing {e.filename})" if e.filename else ""),
                              DISK_FULL) from None
            raise Failure.of(e, f"{e.filename or ''}: {e.strerror or e}".lstrip(": ")) from None
        except KeyboardInterrupt:
            raise Failure("interrupted", INTERRUPTED) from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except Exception as e:  # noqa: BLE001 - a bug: one line, not a traceback
            where = ctx.meta.get("data_dir") or os.environ.get("REVIEWS_DATA")
            code = code_of(e, where)  # SQLite's errors carry their kind
            if code == DISK_FULL:
                raise Failure(_disk_full() + " (what was written before is kept)", code) from None
            if code != FAILED:
                raise Failure(f"{where or 'the archive'}: {e} (SQLite)", code) from None
            if os.environ.get("REVIEWS_DEBUG"):
                raise
            raise Failure(
                f"internal error ({type(e).__name__}: {e}); run again with REVIEWS_DEBUG=1 "
                "for the details, and please report it") from None


def data_dir_option(f):
    def remember(ctx, param, value):  # for an error message that has no path of its own
        ctx.meta["data_dir"] = value
        return value

    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="REVIEWS_DATA", callback=remember,
        help="Archive folder (default: $REVIEWS_DATA, else the per-user data folder).",
    )(f)


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (full UUIDs) for scripts.")(f)


def open_store(data_dir: Path | None, create: bool = False) -> "Store":
    from archive.store import Store

    return Store.open(resolve_data_dir(data_dir, create=create))


#: Bidi embeddings, overrides and isolates: they reorder what follows them on a line.
_BIDI = "\u202a-\u202e\u2066-\u2069"
#: What a terminal must not be given as it is: C0 controls but tab and newline, DEL, C1
#: (ESC, CSI U+009B and OSC U+009D start sequences that retitle the terminal or move the
#: cursor) and the bidi characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
#: What JSON leaves raw though a terminal or an editor acts on it (json escapes C0 itself).
_JSON_RAW = re.compile(r"[\x7f-\x9f" + _BIDI + "]")


def echo_json(obj) -> None:
    """Print ``obj`` as JSON: non-ASCII text as it is, C0, DEL, C1 and bidi characters
    as ``\\u`` escapes (outside strings json.dumps writes ASCII only, so every one of
    them stands inside a string, where the escape means the same character)."""
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    click.echo(_JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def plain(text: str) -> str:
    """Text from a record, safe to write to a terminal: each control or bidi character
    shown on its own as ``<U+009D>``. No escape sequence is parsed: a sequence's extent
    is the terminal's guess, and a rule that took one along took the text after a lone
    U+009D up to the end of its section."""
    return _CONTROL.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def say(text: str = "", err: bool = False) -> None:
    """Print a line that may hold record text (control characters removed)."""
    click.echo(plain(text), err=err)


@click.group(cls=ArchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "--version", package_name="review-archive", prog_name="reviews")
def main():
    """A searchable archive of Chinese literature reviews (callback records).

    \b
    Example:
      reviews ingest drop/ && reviews list --limit 5
    """


# -- ingest ---------------------------------------------------------------------------
@main.command()
@click.argument("paths", nargs=-1, required=False)
@click.option("--glob", "pattern", default="*.txt", show_default=True, help="Files to take from folders.")
@click.option("--watch", "watch_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Keep ingesting files that appear in this drop folder until Ctrl+C.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; print only refusals and the summary.")
@json_option
@data_dir_option
def ingest(paths, pattern, watch_dir, quiet, as_json, data_dir):
    """Ingest record files, folders (recursively) or - for standard input.

    Records are deduplicated by UUID: the same bytes again change nothing, other
    bytes under a known UUID become a new version. Files that are not records are
    refused with the reason; every good record is still stored. Exit status 1 if
    anything was refused, 3 if the disk filled up (see Exit codes).

    \b
    Examples:
      reviews ingest records/ extra/000_a67d.txt
      cat record.txt | reviews ingest -
      reviews ingest --watch drop/
    """
    from archive.ingest import ingest as run_ingest, watch

    if not paths and not watch_dir:
        raise click.UsageError("give files, folders or - (standard input), or --watch DIR")
    named = data_dir or os.environ.get("REVIEWS_DATA")
    new = bool(named) and not Path(named).expanduser().exists()
    directory = resolve_data_dir(data_dir, create=True)
    if new:
        say(f"created the archive folder {directory}", err=True)
    from index.folder import index_dir, storing

    with open_store(directory, create=True) as store, storing(index_dir(directory)):
        exit_code = 0
        if paths:
            rep = _ingest_with_progress(store, list(paths), pattern, quiet, as_json, run_ingest)
            _after_ingest(store, rep, quiet, as_json, directory)
            exit_code = FINDINGS if rep.refused else OK
        if watch_dir:
            import signal

            def stop(signum, frame):  # SIGTERM (a service manager, kill) stops it like Ctrl+C
                raise KeyboardInterrupt

            signal.signal(signal.SIGTERM, stop)
            say(f"watching {watch_dir} for {pattern} (Ctrl+C to stop)", err=True)

            def on_report(rep, path):
                if not as_json and (rep.added or rep.versions):  # name the file, as refusals do
                    say(f"{'added' if rep.added else 'new version from'} {path}")
                try:
                    _after_ingest(store, rep, quiet, as_json, directory)
                except Failure as err:  # a cluster away for a while: keep watching
                    if err.exit_code not in (UNREACHABLE, BUSY):
                        raise
                    say(err.format_message(), err=True)  # (pending: the next file retries)

            try:
                watch(store, watch_dir, glob=pattern, on_report=on_report)
            except KeyboardInterrupt:
                say("stopped", err=True)
        if exit_code:
            sys.exit(exit_code)


def _ingest_with_progress(store, paths, pattern, quiet, as_json, run_ingest):
    stdin = sys.stdin.buffer if "-" in paths else None
    show_bar = not quiet and not as_json and sys.stderr.isatty()
    if not show_bar:
        return run_ingest(store, paths, glob=pattern, stdin=stdin)
    with click.progressbar(length=0, label="ingesting", file=sys.stderr, show_pos=True) as bar:
        def progress(done, total, source):
            bar.length = total
            bar.update(done - bar.pos)

        return run_ingest(store, paths, glob=pattern, stdin=stdin, on_progress=progress)


def _after_ingest(store, rep, quiet, as_json, directory):
    """Print the ingest summary, then bring the search index up to date (new and changed
    reviews only; a missing or corrupt index is rebuilt, and the message says so)."""
    if as_json:
        echo_json(report.ingest_dict(rep))
    else:
        for line in report.refusal_lines(rep):
            say(line, err=True)
        for line in report.ingest_lines(rep):
            say(line)
    try:
        update_index(store, directory, quiet)
    except (OSError, ArchiveError) as err:
        full = code_of(err) == DISK_FULL
        why = "the disk is full" if full else str(err).split(";")[0]
        later = ("they are pending, and the next command that reaches the cluster indexes them"
                 if _cluster_mode() else
                 "`reviews reindex` does it once the cause is fixed")
        raise Failure.of(
            err, f"{why}: the records are stored in the archive ({rep.added} added, {rep.versions} "
            f"new versions), but the search index could not be brought up to date; {later}") from None


def _waiting() -> None:
    say("waiting for another indexing run to finish…", err=True)


def _with_bar(length: int, quiet: bool, run):
    """``run(on_progress)``, with a progress bar on a terminal (``on_progress`` None
    otherwise)."""
    if quiet or not sys.stderr.isatty():
        return run(None)
    with click.progressbar(length=length, label="indexing", file=sys.stderr, show_pos=True) as bar:
        return run(lambda done, total: bar.update(done - bar.pos))


def _cluster_mode() -> bool:
    """Does ``REVIEWS_OPENSEARCH`` name a cluster? (Read without importing its client.)"""
    return bool(os.environ.get("REVIEWS_OPENSEARCH", "").strip())


def _cluster():
    """The OpenSearch engine when ``REVIEWS_OPENSEARCH`` names a cluster, else None
    (the embedded index in the data folder: :mod:`index.engine`). Unset, nothing of
    the cluster's is imported (http.client would cost every search ~10 ms)."""
    if not _cluster_mode():
        return None
    from index.cluster_client import configured

    target = configured()
    if target is None:
        return None
    from index.engine import Cluster

    return Cluster(target)


def _local_store(directory: Path):
    """The archive when this host has one (a host may search a cluster without one)."""
    from contextlib import nullcontext

    from archive.config import archive_path

    return open_store(directory) if archive_path(directory).exists() else nullcontext()


def update_index(store, directory, quiet):
    from index import state
    from index.indexer import index_dir, update

    cluster = _cluster()
    if cluster is not None:  # the cluster's index instead of the data folder's
        with cluster:
            if cluster.behind(store):
                _with_bar(len(cluster.pending(store)), quiet,
                          lambda progress: cluster.catch_up(store, progress))
        return
    pending = len(state.pending(store))
    if not pending and not state.removed(store):
        return
    res = _with_bar(pending, quiet, lambda progress: update(
        store, index_dir(directory), on_wait=_waiting, on_progress=progress))
    if res.message:
        say(res.message, err=True)


# -- list -----------------------------------------------------------------------------
@main.command("list")
@click.option("--topic", help="Only reviews whose topic contains this text.")
@click.option("--since", metavar="DATE", help="Received on or after DATE (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Received on or before DATE (YYYY-MM-DD).")
@click.option("--flag", help="Only reviews with this quality flag (e.g. truncated).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many reviews.")
@click.option("--retracted", is_flag=True, help="List the retracted reviews instead (hidden everywhere else).")
@json_option
@data_dir_option
def list_(topic, since, until, flag, limit, retracted, as_json, data_dir):
    """List reviews, newest first.

    \b
    Examples:
      reviews list --topic 图像识别 --since 2025-11-01 --limit 20
      reviews list --retracted
    """
    if retracted:
        if topic or since or until or flag:
            raise click.UsageError("--retracted lists every retracted review; it does not "
                                   "combine with --topic, --since, --until or --flag")
        with open_store(data_dir) as store:
            rows = store.retracted()[:limit]
        if as_json:
            echo_json([dict(zip(("uuid", "topic", "retracted_at", "reason", "versions"), r))
                       for r in rows])
            return
        for uuid, topic_, at, reason, n in rows:
            say(f"{uuid[:8]}  retracted {at[:16]}  {topic_ or ''}  ({_n(n, 'version')}; {reason})")
        if not rows:
            say("no retracted reviews", err=True)
        return
    since, until = report.check_date(since, "--since"), report.check_date(until, "--until")
    if flag is not None:
        from archive.model import FLAG_KINDS

        if flag not in FLAG_KINDS:
            raise click.BadParameter(f"no quality flag {flag!r}; the flags are: "
                                     + ", ".join(sorted(FLAG_KINDS)), param_hint="--flag")
    from archive import listing

    with open_store(data_dir) as store:
        rows = listing.summaries(store, topic=topic, since=since, until=until, flag=flag, limit=limit)
        empty = not rows and store.count() == 0
    if as_json:
        echo_json([report.summary_dict(r) for r in rows])
        return
    for line in report.list_lines(rows, archive_empty=empty):
        say(line, err=empty)


# -- show -----------------------------------------------------------------------------
@main.command()
@click.argument("review_id")
@click.option("--section", metavar="PATH", help="Print this section (e.g. 3.1) with its subsections.")
@click.option("--raw", is_flag=True, help="Print the original bytes exactly as delivered.")
@click.option("--versions", is_flag=True, help="List every delivered version.")
@click.option("--version", "version_no", type=click.IntRange(min=1), metavar="N",
              help="Show this review's Nth delivered version instead of the current one (see --versions).")
@json_option
@data_dir_option
def show(review_id, section, raw, versions, version_no, as_json, data_dir):
    """Show one review: outline, sections, references, flags.

    REVIEW_ID is a full UUID or a unique prefix of one.

    \b
    Examples:
      reviews show e051ad47
      reviews show e051ad47 --section 8.1
      reviews show e051ad47 --raw > original.txt
    """
    if raw and (section or versions or as_json):
        raise click.UsageError("--raw prints the file exactly as delivered, whole; it does not "
                               "combine with --section, --versions or --json")
    with open_store(data_dir) as store:
        uuid = store.resolve(review_id)
        vers = store.versions(uuid)
        if version_no is not None and version_no not in {v.number for v in vers}:
            raise Failure(f"review {uuid[:8]} has {len(vers)} version"
                          f"{'s' if len(vers) != 1 else ''}, not {version_no}; see --versions", USAGE)
        vid = next(v.id for v in vers if (v.number == version_no if version_no else v.is_current))
        if raw:
            out = sys.stdout.buffer
            out.write(store.raw(vid))
            out.flush()
            return
        rec = store.record(vid)
    if versions:
        if as_json:
            echo_json([report.version_dict(v) for v in vers])
        else:
            for line in report.version_lines(vers):
                say(line)
        return
    if section:
        section = report.section_key(rec, section)
        if as_json:
            echo_json([s.__dict__ for s in report.subtree(rec, section)])
        else:
            say(report.section_text(rec, section))
        return
    if as_json:
        d = rec.to_dict()
        d["versions"] = [report.version_dict(v) for v in vers]
        echo_json(d)
        return
    say(report.show_text(rec, vers))


# -- check ----------------------------------------------------------------------------
@main.command()
@click.argument("review_ids", nargs=-1)
@click.option("--strict", is_flag=True, help="Exit with status 1 when any defect is found (notes do not count).")
@click.option("--all", "show_notes", is_flag=True, help="Also list the notes (quirks of the delivery format).")
@json_option
@data_dir_option
def check(review_ids, strict, show_notes, as_json, data_dir):
    """The quality report: each defect with its place (8.1.1 truncated).

    A defect is what a reader of the review suffers from (truncation, dangling
    citations, placeholder tables, missing chapters...); a note is a quirk of the
    delivery format (encoding, CRLF, heading levels...). Without REVIEW_IDS,
    every review in the archive is checked.

    \b
    Example:
      reviews check --strict e051ad47
    """
    from archive import listing

    with open_store(data_dir) as store:
        uuids = [store.resolve(r) for r in review_ids] if review_ids else None
        flags = listing.flags(store, uuids)
        topics = listing.topics(store, uuids) if flags else {}
    defects = sum(1 for v in flags.values() for f in v if f.severity == "defect")
    if as_json:
        echo_json([{"uuid": u, "topic": topics.get(u, ""),
                    "flags": [{**f.__dict__, "severity": f.severity} for f in fl]}
                   for u, fl in flags.items()])
    else:
        for line in report.check_lines(flags, topics, notes=show_notes):
            say(line)
    if strict and defects:
        sys.exit(FINDINGS)


# -- stats ----------------------------------------------------------------------------
@main.command()
@json_option
@data_dir_option
def stats(as_json, data_dir):
    """Counts and the archive at a glance: reviews per month, most cited works,
    biggest topics, defects by kind (as small bar charts; the site draws the same).

    \b
    Example:
      reviews stats --json
    """
    from archive import listing

    with open_store(data_dir) as store:
        st = report.with_severity(listing.stats(store))
        figures = listing.figures(store) if st["reviews"] else {}
    if as_json:
        echo_json({**st, "figures": figures})
        return
    for line in report.stats_lines(st):
        say(line)
    if figures:
        from publish.charts import text_bars

        for title, rows in report.figure_rows(figures):
            say()
            say(title)
            for line in text_bars(rows, width=30):
                say("  " + line)


# -- similar --------------------------------------------------------------------------
@main.command()
@click.argument("review_id")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1),
              help="At most this many reviews.")
@json_option
@data_dir_option
def similar(review_id, limit, as_json, data_dir):
    """Reviews most like one review: shared distinctive words and shared references.

    Two reviews that cite the same works are related even when worded
    differently; the reason is given for each.

    \b
    Example:
      reviews similar e051ad47 --limit 5
    """
    from index.indexer import IndexProblem, check, index_dir, update
    from index.similar import similar as find_similar

    directory = resolve_data_dir(data_dir)
    cluster = _cluster()
    if cluster is not None:  # any host's review, related across every host's
        with cluster, _local_store(directory) as store:
            uuid = cluster.resolve(store, review_id)
            rows = cluster.similar(store, uuid, limit)
        _print_similar(rows, as_json)
        return
    with open_store(directory) as store:
        uuid = store.resolve(review_id)
        ix = index_dir(directory)
        if check(ix, deep=False) is not None:  # no index yet, or unusable: build it first
            try:
                update(store, ix, on_wait=_waiting)
            except IndexProblem as err:
                raise Failure.of(err) from None
        _say_if_index_behind(directory)
        rows = find_similar(store, ix, uuid, limit=limit)
    _print_similar(rows, as_json)


def _print_similar(rows, as_json: bool) -> None:
    if as_json:
        echo_json([r.to_dict() for r in rows])
        return
    for r in rows:
        say(f"{r.uuid[:12]}  {r.score:6.3f}  {r.topic}  ({r.reason()})")
    if not rows:
        say("no related reviews (none shares distinctive words or references with it)", err=True)


# -- export ---------------------------------------------------------------------------
@main.command("export")
@click.argument("review_id", required=False)
@click.option("--format", "fmt", type=click.Choice(["bibtex", "ris", "csl-json"]), default="bibtex",
              show_default=True, help="BibTeX (.bib), RIS (.ris) or CSL-JSON (.json).")
@click.option("--ref", "ref_id", metavar="REF_ID", help="One work, by its id (r0123456789) or a unique prefix.")
@click.option("--search", "query", metavar="QUERY", help="The works cited by every review this search finds.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@data_dir_option
def export_(review_id, fmt, ref_id, query, output, data_dir):
    """Export references for a reference manager (Zotero, EndNote...).

    A review's reference list, one work (--ref), or the works cited by the
    reviews a search finds (--search), each work once.

    \b
    Examples:
      reviews export e051ad47 --format ris -o refs.ris
      reviews export --ref r0123456789 --format csl-json
      reviews export --search '联邦学习 -综述' > cited.bib
    """
    from archive import citing, export
    from archive.references import REF_ID_PREFIX

    if bool(review_id) + bool(ref_id) + bool(query) != 1:
        raise click.UsageError("give a review id, or --ref REF_ID, or --search QUERY")
    with open_store(data_dir) as store:
        if review_id:
            entries = list(citing.references_of(store, [store.resolve(review_id)]))
        elif ref_id:
            found = citing.find(store, [ref_id]) if REF_ID_PREFIX.match(ref_id.lower()) else []
            if len(found) != 1:
                raise Failure(
                    f"{'no work' if not found else f'{len(found)} works'} with the id {ref_id!r}"
                    + (" (give more of it)" if found else " (see `reviews refs WORDS` or `reviews refs --top`)"),
                    USAGE)
            entries = citing.entries_of(store, found[0])
        else:
            from index.folder import IndexProblem, index_dir
            from index.search import search as run_search

            directory = resolve_data_dir(data_dir)
            cluster = _cluster()
            if cluster is not None:  # the works of every host's matching reviews
                with cluster:
                    res = cluster.search(query, ids_only=True, limit=None, store=store)
                    entries = cluster.references_of(store, res.uuids)
            else:
                try:
                    res = run_search(index_dir(directory), query, ids_only=True, limit=None,
                                     store=store)
                except IndexProblem as err:
                    raise Failure.of(err) from None
                entries = list(citing.references_of(store, res.uuids))
        text = export.render(export.works(entries), fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, "utf-8")
    except OSError as err:
        raise Failure.of(err, f"cannot write {output}: {err.strerror}") from None
    say(f"wrote {output}", err=True)


# -- retract, restore, purge --------------------------------------------------------
def _follow(store, data_dir) -> None:
    """Bring the search index up to the archive after a review left or came back (the
    site follows on its next `reviews site`)."""
    from index.indexer import check, index_dir

    directory = resolve_data_dir(data_dir)
    cluster = _cluster_mode()
    if not cluster and check(index_dir(directory), deep=False) == "missing":
        return  # no index yet: the first search or ingest builds it without the review
    try:
        update_index(store, directory, quiet=True)
    except (OSError, ArchiveError) as err:
        later = ("the next command that reaches the cluster does it" if cluster else
                 "`reviews reindex` does it once the cause is fixed")
        raise Failure.of(
            err, f"{str(err).split(';')[0]}: the archive is changed, but the search index could "
            f"not follow; {later}") from None


@main.command()
@click.argument("review_id")
@click.option("--reason", required=True, metavar="TEXT", help="Why (kept with the time).")
@data_dir_option
def retract(review_id, reason, data_dir):
    """Hide a wrongly delivered review from list, search, refs, similar, export and the site.

    Its versions stay in the archive with the reason and the time;
    `reviews restore` undoes it, `reviews purge` deletes it for good.

    \b
    Example:
      reviews retract e051ad47 --reason "delivered for the wrong topic"
    """
    with open_store(data_dir) as store:
        uuid = store.resolve(review_id)
        store.retract(uuid, reason)
        _follow(store, data_dir)
    say(f"retracted {uuid[:8]}: hidden from list, search, refs and exports now, and from "
        "the site at its next `reviews site`; `reviews restore " + uuid[:8] + "` undoes it")


@main.command()
@click.argument("review_id")
@data_dir_option
def restore(review_id, data_dir):
    """Bring back a retracted review (its latest version is current again).

    \b
    Example:
      reviews restore e051ad47
    """
    with open_store(data_dir) as store:
        uuid = store.resolve(review_id, among="retracted")
        store.restore(uuid)
        _follow(store, data_dir)
    say(f"restored {uuid[:8]}")


@main.command()
@click.argument("review_id")
@click.option("--yes", is_flag=True, help="Do not ask (needed when not on a terminal).")
@data_dir_option
def purge(review_id, yes, data_dir):
    """Delete every stored byte of a review for good (retracted or not).

    For content that must not be kept: the versions, their original bytes and
    everything derived from them leave the archive file. The search index
    follows now, the site at its next `reviews site`. This cannot be undone.

    \b
    Example:
      reviews purge e051ad47 --yes
    """
    with open_store(data_dir) as store:
        uuid = store.resolve(review_id, among="any")
        if not yes:
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                raise Failure(f"purging {uuid[:8]} deletes it for good; "
                              "not on a terminal, so add --yes to confirm", USAGE)
            if not click.confirm(f"delete every version of {uuid} for good?", default=False):
                raise Failure("nothing deleted", FINDINGS)
        n = store.purge(uuid)
        from publish.cache import forget  # (the site's cache holds copies too)

        forget(store.path.parent, uuid)
        _follow(store, data_dir)
        cluster = _cluster()
        if cluster is not None:  # deleted there by _follow; now merged away for good
            with cluster:
                cluster.expunge()
    say(f"purged {uuid[:8]}: {_n(n, 'version')} deleted from the archive, the search index "
        "and the site's cache; a built site drops it at its next `reviews site`")


# -- search, refs, reindex ------------------------------------------------------------
def _marked(pieces) -> str:
    """``[(text, is_match)]`` as one line, matches highlighted (plain when piped); the
    record's text is cleaned of control characters before the highlight is added."""
    return "".join(click.style(plain(t), fg="red", bold=True) if m else plain(t) for t, m in pieces)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--since", metavar="DATE", help="Received on or after DATE (YYYY-MM-DD); also since:DATE in the query.")
@click.option("--until", metavar="DATE", help="Received on or before DATE (YYYY-MM-DD); also until:DATE in the query.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="Reviews to show.")
@click.option("--offset", default=0, type=click.IntRange(min=0), help="Reviews to skip.")
@click.option("-l", "--ids", "ids_only", is_flag=True,
              help="Print the full id of every matching review, one per line, in rank order.")
@json_option
@data_dir_option
def search(query, since, until, limit, offset, ids_only, as_json, data_dir):
    """Search the reviews: a review matches when every word occurs in it.

    An unspaced Chinese string matches literally (like Ctrl+F); "..." is a
    phrase; a OR b; -word or NOT word drops reviews holding it; fields topic:,
    section: (3.1 or title words: the other words must occur there), ref:
    (r0123456789 or title words), uuid: (prefix), since:/until: (dates).
    Reviews are ranked by relevance; under each, the sections holding the words.

    \b
    Examples:
      reviews search 小样本 ResNet
      reviews search '"transfer learning"' -GAN since:2025-01-01
      reviews search topic:图像识别 section:2.1 模型
      reviews search -l 联邦学习 | wc -l
    """
    from index.folder import IndexProblem, index_dir
    from index.search import search as run_search

    directory = resolve_data_dir(data_dir)
    args = dict(since=since, until=until, limit=None if ids_only else limit,
                offset=0 if ids_only else offset, ids_only=ids_only)
    cluster = _cluster()
    if cluster is not None:  # (this archive's pending reviews go to the cluster first)
        with cluster, _local_store(directory) as store:
            res = cluster.search(" ".join(query), store=store, **args)
    else:
        try:  # the archive is opened only when the index must be (re)built from it
            res = run_search(index_dir(directory), " ".join(query), **args)
        except IndexProblem:
            with open_store(directory) as store:
                res = run_search(index_dir(directory), " ".join(query), store=store, **args)
    if res.notice:
        say(res.notice, err=True)
    if res.empty:
        say("no reviews yet; `reviews ingest FILES` adds some", err=True)
    if cluster is None:
        _say_if_index_behind(directory)
    if ids_only:
        if as_json:
            echo_json(res.uuids)
        elif res.uuids:
            say("\n".join(res.uuids))
        return
    if as_json:
        echo_json(res.to_dict())
        return
    for r in res.reviews:
        say(f"{r.uuid[:12]}  {r.received_at[:10]}  {r.topic}  "
                   f"({r.n_sections} section{'s' if r.n_sections != 1 else ''})")
        for s in r.sections:
            say(f"  {s.number} {s.title}")
            if s.snippet:
                click.echo(f"    {_marked(s.snippet)}")
    shown = f"{offset + 1}-{offset + len(res.reviews)} of " if res.reviews else ""
    say(f"{shown}{_n(res.total_reviews, 'review')}")


def _n(count: int, noun: str, width: int = 0) -> str:
    """``1 review``, ``2 reviews`` (the count right-aligned in ``width``)."""
    return f"{count:>{width}} {noun}{'' if count == 1 else 's'}"


def _say_if_index_behind(directory: Path) -> None:
    """Reviews the index does not hold yet, which a search misses silently: say so, and
    why. Either a run is at work on them (an ingest or another indexing run: it holds
    the index's locks) or one was stopped (killed, a full disk), and `reviews reindex`
    adds them. (A rebuild stopped midway leaves the old index answering, and counted.)"""
    from archive.lag import unindexed
    from index.folder import index_dir, indexing_live

    n = unindexed(directory)
    if not n:
        return
    missing = f"{_n(n, 'review')} of the archive {'are' if n != 1 else 'is'} not in the search index"
    if indexing_live(index_dir(directory)):
        say(f"note: {missing} yet: being indexed now (search again when that is done)", err=True)
    else:
        say(f"note: {missing} yet (an indexing run was stopped?); `reviews reindex` adds them",
            err=True)


@main.command()
@click.argument("query", nargs=-1)
@click.option("--top", "top_n", type=click.IntRange(min=1), help="The N most cited works instead.")
@click.option("--dangling", "show_dangling", is_flag=True, help="Markers that resolve to no reference.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1),
              help="Works to show (title words can match many).")
@click.option("--all", "show_all", is_flag=True, help="Show every matching work.")
@json_option
@data_dir_option
def refs(query, top_n, show_dangling, limit, show_all, as_json, data_dir):
    """Where a work is cited: by words of its title or by its id (r0123456789).

    The same work cited as [3] in one review and [11] in another, or spelled
    differently, is one group.

    \b
    Examples:
      reviews refs 迁移学习 卷积
      reviews refs r0123456789 --json
      reviews refs r01234 --all
      reviews refs --top 10
      reviews refs --dangling
    """
    from archive import citing
    from index import refs as refs_api

    if bool(query) + bool(top_n) + show_dangling != 1:
        raise click.UsageError("give title words or an id, or --top N, or --dangling")
    with open_store(data_dir) as store:
        if top_n:
            rows = citing.top_references(store, top_n)
            if as_json:
                echo_json([r._asdict() for r in rows])
            for r in [] if as_json else rows:
                say(f"{r.ref_id}  {_n(r.citations, 'citation', 4)}  {_n(r.reviews, 'review', 3)}  {r.title}")
            if not rows and not as_json:
                say(report.EMPTY if store.count() == 0 else "no cited works", err=True)
            return
        if show_dangling:
            rows = citing.dangling(store)
            if as_json:
                echo_json([dict(uuid=d.uuid, topic=d.topic, section=d.section, marker=d.marker,
                                sentence=d.sentence) for d in rows])
            for d in [] if as_json else rows:
                say(f"{d.uuid[:12]}  {d.section}  {d.marker}  {d.sentence}")
            if not rows and not as_json:
                say("no dangling citations")
            return
        cluster = _cluster()
        if cluster is not None:  # every host's reviews
            with cluster:
                groups = cluster.find_uses(store, " ".join(query))
        else:
            groups = refs_api.find_uses(store, " ".join(query))
    if as_json:
        echo_json([g.to_dict() for g in groups])
        return
    shown = groups if show_all else groups[:limit]
    for g in shown:
        say(f"{g.ref_id}  {g.title}  ({_n(len(g.uses), 'citation')} in {_n(g.n_reviews, 'review')})")
        for other in g.titles[1:]:
            say(f"    also: {other}")
        for u in g.uses:
            span = refs_api.marker_span(u)
            sentence = (_marked([(u.sentence[:span[0]], False), (u.marker, True),
                                 (u.sentence[span[1]:], False)]) if span else plain(u.sentence))
            say(f"  {u.uuid[:12]}  {u.received_at[:10]}  {u.section} {u.section_title}")
            click.echo(f"    {sentence}")
    if len(groups) > len(shown):
        say(f"… {len(groups) - len(shown)} more works, use --all (or --limit N)")
    if not groups:
        say("no reference matches")


@main.command()
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def reindex(quiet, data_dir):
    """Rebuild the search index from the archive (safe to interrupt).

    With REVIEWS_OPENSEARCH set, push every current review of this archive to
    the cluster's index instead, in batches; a run that was stopped resumes
    where it stopped.

    \b
    Examples:
      reviews reindex
      REVIEWS_OPENSEARCH=http://127.0.0.1:9200 reviews reindex
    """
    from index.indexer import index_dir, rebuild

    directory = resolve_data_dir(data_dir)
    cluster = _cluster()
    with open_store(directory) as store:
        if cluster is not None:
            with cluster:
                rep = _with_bar(store.count(), quiet,
                                lambda progress: cluster.reindex(store, progress))
            resumed = " (a stopped run resumed)" if rep.resumed else ""
            say(f"indexed {rep.indexed} reviews into {cluster.target.label}{resumed}")
            return
        rep = _with_bar(store.count(), quiet, lambda progress: rebuild(
            store, index_dir(directory), on_wait=_waiting, on_progress=progress))
    say(f"indexed {rep.indexed} reviews")


# -- site, serve ----------------------------------------------------------------------------
@main.command()
@click.argument("out", required=False, default="_site", type=click.Path(file_okay=False, path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@data_dir_option
def site(out, quiet, data_dir):
    """Build the static site (every review, reference and topic, with search) into OUT.

    Re-running writes only the pages and search files that changed. The site uses
    relative links: host the folder anywhere, or open OUT/index.html from disk.

    \b
    Example:
      reviews site _site && reviews serve _site
    """
    from publish.site import build_site

    with open_store(data_dir) as store:
        if quiet or not sys.stderr.isatty():
            rep = build_site(store, out)
        else:
            with click.progressbar(length=max(store.count(), 1), label="building", file=sys.stderr) as bar:
                def progress(stage, done, total):
                    if stage == "reviews":
                        bar.update(done - bar.pos)

                rep = build_site(store, out, on_progress=progress)
    say(rep.summary())
    say(f"open {out / 'index.html'} or run: reviews serve {out}")


@main.command()
@click.argument("out", required=False, default="_site", type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port on 127.0.0.1.")
def serve(out, port):
    """Preview a built site on http://127.0.0.1:PORT/ (Ctrl+C stops).

    \b
    Example:
      reviews serve _site --port 8080
    """
    from publish.serve import serve as run_server

    def ready(url):
        say(f"serving {out} at {url} (Ctrl+C to stop)")

    try:
        run_server(out, port=port, on_ready=ready)
    except KeyboardInterrupt:
        pass
    say("stopped")


if __name__ == "__main__":
    main()
