"""`reviews`: the command-line shell over the archive, index and site APIs.

Each command parses its options, calls the API and prints. Errors from the API
(:class:`archive.errors.ArchiveError`), and OSErrors, become one-line messages that end
the command with the exit code of their kind (:data:`archive.errors.EXIT_CODES`).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from shell.startup import OnFirstUse, light_whoosh

light_whoosh()  # before anything imports Whoosh

from archive.config import data_dir as resolve_data_dir
from archive.errors import BUSY, FINDINGS, OK, UNREACHABLE, USAGE
from shell.failures import ArchiveGroup, Failure
from shell.indexing import after_ingest, cluster, cluster_mode, follow, read, ready, waiting
from shell.options import data_dir_option, group_data_dir_option
from shell.output import n as _n, output_options, say
from shell.progress import with_bar
from shell.stores import local_read_store, open_store, read_store

report = OnFirstUse("shell.report")


@click.group(cls=ArchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "--version", package_name="review-archive", prog_name="reviews")
@group_data_dir_option
def main():
    """A searchable archive of Chinese literature reviews (callback records).

    --data-dir goes before the command or after it (after it, it wins); either
    wins over $REVIEWS_DATA.

    \b
    Examples:
      reviews ingest drop/ && reviews list --limit 5
      reviews --data-dir demo-data search 残差网络
    """


# -- ingest ---------------------------------------------------------------------------
@main.command()
@click.argument("paths", nargs=-1, required=False)
@click.option("--glob", "pattern", default="*.txt", show_default=True, help="Files to take from folders.")
@click.option("--watch", "watch_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Keep ingesting files that appear in this drop folder until Ctrl+C.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; print only refusals and the summary.")
@output_options
@data_dir_option
def ingest(paths, pattern, watch_dir, quiet, out, data_dir):
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
            stdin = sys.stdin.buffer if "-" in paths else None
            rep = with_bar("ingesting", quiet or out.json, lambda progress: run_ingest(
                store, list(paths), glob=pattern, stdin=stdin, on_progress=progress))
            _said_and_indexed(store, rep, quiet, out, directory)
            exit_code = FINDINGS if rep.refused else OK
        if watch_dir:
            import signal

            def stop(signum, frame):  # SIGTERM (a service manager, kill) stops it like Ctrl+C
                raise KeyboardInterrupt

            signal.signal(signal.SIGTERM, stop)
            say(f"watching {watch_dir} for {pattern} (Ctrl+C to stop)", err=True)

            def on_report(rep, path):
                if not out.json and (rep.added or rep.versions):  # name the file, as refusals do
                    say(f"{'added' if rep.added else 'new version from'} {path}")
                try:
                    _said_and_indexed(store, rep, quiet, out, directory)
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


def _said_and_indexed(store, rep, quiet, out, directory):
    """Print the ingest summary (refusals on stderr), then index what came in."""
    for line in report.refusal_lines(rep):
        out.note(line)
    out.show(lambda: report.ingest_dict(rep), lambda: report.ingest_lines(rep))
    after_ingest(store, rep, directory, quiet)


# -- list -----------------------------------------------------------------------------
@main.command("list")
@click.option("--topic", help="Only reviews whose topic contains this text.")
@click.option("--since", metavar="DATE", help="Received on or after DATE (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Received on or before DATE (YYYY-MM-DD).")
@click.option("--flag", help="Only reviews with this quality flag (e.g. truncated).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many reviews.")
@click.option("--retracted", is_flag=True, help="List the retracted reviews instead (hidden everywhere else).")
@output_options
@data_dir_option
def list_(topic, since, until, flag, limit, retracted, out, data_dir):
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
        with read_store(data_dir) as store:
            rows = store.retracted()[:limit]
        out.show(lambda: report.retracted_dicts(rows), lambda: report.retracted_lines(rows))
        if not rows:
            out.note("no retracted reviews")
        return
    since, until = report.check_date(since, "--since"), report.check_date(until, "--until")
    if flag is not None:
        from archive.model import FLAG_KINDS

        if flag not in FLAG_KINDS:
            raise click.BadParameter(f"no quality flag {flag!r}; the flags are: "
                                     + ", ".join(sorted(FLAG_KINDS)), param_hint="--flag")
    from archive import listing

    with read_store(data_dir) as store:
        rows = listing.summaries(store, topic=topic, since=since, until=until, flag=flag, limit=limit)
        empty = not rows and store.count() == 0
    if empty:
        out.show([], ())
        out.note(report.EMPTY)
        return
    out.show(lambda: [report.summary_dict(r) for r in rows], lambda: report.list_lines(rows))


# -- show -----------------------------------------------------------------------------
@main.command()
@click.argument("review_id")
@click.option("--section", metavar="PATH", help="Print this section (e.g. 3.1) with its subsections.")
@click.option("--raw", is_flag=True, help="Print the original bytes exactly as delivered.")
@click.option("--versions", is_flag=True, help="List every delivered version.")
@click.option("--version", "version_no", type=click.IntRange(min=1), metavar="N",
              help="Show this review's Nth delivered version instead of the current one (see --versions).")
@output_options
@data_dir_option
def show(review_id, section, raw, versions, version_no, out, data_dir):
    """Show one review: outline, sections, references, flags.

    REVIEW_ID is a full UUID or a unique prefix of one.

    \b
    Examples:
      reviews show e051ad47
      reviews show e051ad47 --section 8.1
      reviews show e051ad47 --raw > original.txt
    """
    if raw and (section or versions or out.json):
        raise click.UsageError("--raw prints the file exactly as delivered, whole; it does not "
                               "combine with --section, --versions or --json")
    with read_store(data_dir) as store:
        uuid = store.resolve(review_id)
        vers = store.versions(uuid)
        if version_no is not None and version_no not in {v.number for v in vers}:
            raise Failure(f"review {uuid[:8]} has {len(vers)} version"
                          f"{'s' if len(vers) != 1 else ''}, not {version_no}; see --versions", USAGE)
        vid = next(v.id for v in vers if (v.number == version_no if version_no else v.is_current))
        if raw:
            stdout = sys.stdout.buffer
            stdout.write(store.raw(vid))
            stdout.flush()
            return
        rec = store.record(vid)
    if versions:
        out.show(lambda: [report.version_dict(v) for v in vers], lambda: report.version_lines(vers))
    elif section:
        section = report.section_key(rec, section)
        out.show(lambda: [s.__dict__ for s in report.subtree(rec, section)],
                 lambda: [report.section_text(rec, section)])
    else:
        out.show(lambda: report.review_dict(rec, vers), lambda: [report.show_text(rec, vers)])


# -- check ----------------------------------------------------------------------------
@main.command()
@click.argument("review_ids", nargs=-1)
@click.option("--strict", is_flag=True, help="Exit with status 1 when any defect is found (notes do not count).")
@click.option("--all", "show_notes", is_flag=True, help="Also list the notes (quirks of the delivery format).")
@output_options
@data_dir_option
def check(review_ids, strict, show_notes, out, data_dir):
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
    out.show(lambda: report.check_dicts(flags, topics),
             lambda: report.check_lines(flags, topics, notes=show_notes))
    if strict and defects:
        sys.exit(FINDINGS)


# -- stats ----------------------------------------------------------------------------
@main.command()
@click.option("--by", type=click.Choice(["month", "topic"]), default=None,
              help="Quality per month received or per topic: reviews with each defect per "
                   "100 reviews, references per review, the share of year-less and of "
                   "uncited references.")
@output_options
@data_dir_option
def stats(by, out, data_dir):
    """Counts and the archive at a glance: reviews per month, most cited works,
    biggest topics, defects by kind (as small bar charts; the site draws the same).
    With --by month or --by topic: how the quality of the deliveries changes.

    \b
    Examples:
      reviews stats --json
      reviews stats --by month
    """
    from archive import listing

    if by:
        from archive.quality import quality

        with read_store(data_dir) as store:
            rows = quality(store, by)
        out.show(lambda: [q.to_dict(by) for q in rows], lambda: report.quality_lines(rows, by))
        return
    with read_store(data_dir) as store:
        st = report.with_severity(listing.stats(store))
        figures = listing.figures(store) if st["reviews"] else {}
    out.show({**st, "figures": figures}, lambda: report.stats_lines(st) + report.figure_lines(figures))


# -- verify ---------------------------------------------------------------------------
@main.command()
@output_options
@data_dir_option
def verify(out, data_dir):
    """The full check of the archive: is every stored byte what it should be?

    SQLite's own integrity check, every delivered original against its
    sha256, the rows derived from each version against its parsed record,
    each review's current version, and the counts that stats and refs --top
    read against a recount. It reads every byte, so it takes a while on
    a large archive. Prints one line per problem; exit status 1 if there is any.

    \b
    Examples:
      reviews verify
      reviews verify --json
    """
    from archive.verify import verify as verify_archive

    with open_store(data_dir) as store:
        problems = verify_archive(store)
    out.show({"ok": not problems, "problems": problems}, problems)
    out.note(f"{_n(len(problems), 'problem')} found" if problems else "no problems found")
    if problems:
        sys.exit(FINDINGS)


# -- similar --------------------------------------------------------------------------
@main.command()
@click.argument("review_id")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1),
              help="At most this many reviews.")
@output_options
@data_dir_option
def similar(review_id, limit, out, data_dir):
    """Reviews most like one review: shared distinctive words and shared references.

    Two reviews that cite the same works are related even when worded
    differently; the reason is given for each.

    \b
    Example:
      reviews similar e051ad47 --limit 5
    """
    directory = resolve_data_dir(data_dir)
    with local_read_store(directory) as store:
        if store is not None and not cluster_mode():
            store.resolve(review_id)  # (an unknown id: said before the index is built)
        with ready(directory) as engine:
            # the cluster: any host's review, related across every host's
            rows = engine.similar(store, engine.resolve(store, review_id), limit)
    _print_similar(rows, out)


def _print_similar(rows, out) -> None:
    out.show(lambda: [r.to_dict() for r in rows],
             lambda: [f"{r.uuid[:12]}  {r.score:6.3f}  {r.topic}  ({r.reason()})" for r in rows])
    if not rows:
        out.note("no related reviews (none shares distinctive words or references with it)")


# -- dupes ----------------------------------------------------------------------------
@main.command()
@click.option("--threshold", default=0.8, show_default=True, type=click.FloatRange(0.5, 1.0),
              help="Lowest similarity that makes two reviews near duplicates (0.5-1.0).")
@click.option("--passages", is_flag=True,
              help="List recycled passages instead: paragraphs (80+ characters) that recur, "
                   "nearly identical, in 3 or more reviews.")
@output_options
@data_dir_option
def dupes(threshold, passages, out, data_dir):
    """Near-duplicate reviews: groups whose content is nearly the same.

    A review regenerated under a new UUID (sentences edited, chapters in
    another order) or recycled into another topic (a chapter replaced).
    For each group: the similarity, the chapters the reviews share and
    which review came first (received). A re-delivery of one UUID is a
    version, not a duplicate; retracted reviews are left out. The first
    run sketches every review (under a minute at 10k); later runs only
    what arrived since.

    \b
    Examples:
      reviews dupes
      reviews dupes --threshold 0.9 --json
      reviews dupes --passages
    """
    from index import dupes as near
    from shell import dupes as shown

    if passages and click.get_current_context().get_parameter_source("threshold").name == "COMMANDLINE":
        raise click.UsageError("--threshold is for groups of reviews; --passages takes none")

    def announce(count: int) -> None:
        say(f"sketching {_n(count, 'review')} for near-duplicate search (once)…", err=True)

    with read_store(data_dir) as store:
        if passages:
            found = near.passages(store, store.path.parent, announce)
            out.show(lambda: shown.passage_dicts(found), lambda: shown.passage_lines(found))
            out.note(f"{_n(len(found), 'passage')} in {near.PASSAGE_REVIEWS} reviews or more"
                     if found else "no passage recurs in 3 reviews or more")
            return
        found = near.groups(store, store.path.parent, threshold, announce)
    out.show(lambda: shown.group_dicts(found), lambda: shown.group_lines(found))
    out.note(f"{_n(len(found), 'group')} of near-duplicate reviews ({_n(sum(len(g.members) for g in found), 'review')})"
             f" at similarity {threshold:.2f} or more" if found
             else f"no near-duplicate reviews at similarity {threshold:.2f} or more")


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
    with read_store(data_dir) as store:
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
            # the cluster: the works of every host's matching reviews
            with ready(resolve_data_dir(data_dir)) as engine:
                res = read(engine, lambda: engine.search(query, ids_only=True, limit=None))
                entries = engine.references_of(store, res.uuids)
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
@main.command()
@click.argument("review_id")
@click.option("--reason", required=True, metavar="TEXT", help="Why (kept with the time).")
@output_options
@data_dir_option
def retract(review_id, reason, out, data_dir):
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
        follow(store, resolve_data_dir(data_dir))
    out.show({"uuid": uuid, "retracted": True, "reason": reason}, [
        f"retracted {uuid[:8]}: hidden from list, search, refs and exports now, and from "
        f"the site at its next `reviews site`; `reviews restore {uuid[:8]}` undoes it"])


@main.command()
@click.argument("review_id")
@output_options
@data_dir_option
def restore(review_id, out, data_dir):
    """Bring back a retracted review (its latest version is current again).

    \b
    Example:
      reviews restore e051ad47
    """
    with open_store(data_dir) as store:
        uuid = store.resolve(review_id, among="retracted")
        store.restore(uuid)
        follow(store, resolve_data_dir(data_dir))
    out.show({"uuid": uuid, "restored": True}, [f"restored {uuid[:8]}"])


@main.command()
@click.argument("review_id")
@click.option("--yes", is_flag=True, help="Do not ask (needed when not on a terminal).")
@output_options
@data_dir_option
def purge(review_id, yes, out, data_dir):
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
        deleted = store.purge(uuid)
        from index.dupes import forget as forget_sketches
        from publish.cache import forget  # (the site's cache holds copies too)

        forget(store.path.parent, uuid)
        forget_sketches(store.path.parent, uuid)
        follow(store, resolve_data_dir(data_dir))
        engine = cluster()
        if engine is not None:  # deleted there by follow; now merged away for good
            with engine:
                engine.expunge()
    out.show({"uuid": uuid, "purged": True, "versions": deleted}, [
        f"purged {uuid[:8]}: {_n(deleted, 'version')} deleted from the archive, the search index "
        "and the site's cache; a built site drops it at its next `reviews site`"])


# -- search, refs, reindex ------------------------------------------------------------
@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--since", metavar="DATE", help="Received on or after DATE (YYYY-MM-DD); also since:DATE in the query.")
@click.option("--until", metavar="DATE", help="Received on or before DATE (YYYY-MM-DD); also until:DATE in the query.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="Reviews to show.")
@click.option("--offset", default=0, type=click.IntRange(min=0), help="Reviews to skip.")
@click.option("-l", "--ids", "ids_only", is_flag=True,
              help="Print the full id of every matching review, one per line, in order (--sort).")
# (no short forms for these: -word in a query is NOT word)
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True,
              help="relevance, or date: newest received first (then by id).")
@click.option("--facets", "with_facets", is_flag=True,
              help="Also count all matching reviews by topic and by month received.")
@click.option("--count", "count_only", is_flag=True,
              help="Print only the number of matching reviews.")
@output_options
@data_dir_option
def search(query, since, until, limit, offset, ids_only, sort, with_facets, count_only, out, data_dir):
    """Search the reviews: a review matches when every word occurs in it.

    An unspaced Chinese string matches literally (like Ctrl+F); "..." is a
    phrase; a OR b; -word or NOT word drops reviews holding it; fields topic:,
    section: (3.1 or title words: the other words must occur there), ref:
    (r0123456789 or title words), uuid: (prefix), since:/until: (dates).
    Reviews are ranked by relevance (--sort date: newest first); under each, the
    sections holding the words. --facets counts every match by topic and by month
    received (--json: with the query items that narrow the search to each).

    \b
    Examples:
      reviews search 小样本 ResNet
      reviews search '"transfer learning"' -GAN since:2025-01-01
      reviews search topic:图像识别 section:2.1 模型
      reviews search -l 联邦学习 | wc -l
      reviews search 深度学习 --facets --sort date
      reviews search --count 联邦学习
    """
    from index.query import parse

    if ids_only and (with_facets or count_only):
        raise click.UsageError(f"-l prints the ids of the matches; {'--facets' if with_facets else '--count'} "
                               "does not combine with it")
    text = " ".join(query)
    parse(text).with_dates(since, until)  # (a query that does not parse: said before any work)
    every = ids_only or count_only
    args = dict(since=since, until=until, limit=None if every else limit,
                offset=0 if every else offset, ids_only=every, facets=with_facets,
                sort="date" if count_only else sort)  # (a count has no order: none is scored)
    with ready(resolve_data_dir(data_dir)) as engine:
        res = read(engine, lambda: engine.search(text, **args))
    res.notice = engine.notice
    if res.empty:
        say("no reviews yet; `reviews ingest FILES` adds some", err=True)
    if count_only:
        data = {"count": res.total_reviews}
        if res.facets is not None:
            data["facets"] = res.facets.to_dict()
        out.show(data, lambda: [str(res.total_reviews)] + (
            report.facet_lines(res.facets) if res.facets is not None else []))
    elif ids_only:
        out.show(res.uuids, res.uuids)
    else:
        out.show(res.to_dict, lambda: report.search_lines(res, offset) + (
            report.facet_lines(res.facets) if res.facets is not None else []))


@main.command()
@click.argument("query", nargs=-1)
@click.option("--top", "top_n", type=click.IntRange(min=1), metavar="N",
              help="Mode: the N most cited works of this archive.")
@click.option("--dangling", "show_dangling", is_flag=True,
              help="Mode: the citation markers of this archive that resolve to no reference.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1),
              help="Works to show (title words can match many).")
@click.option("--all", "show_all", is_flag=True, help="Show every matching work.")
@output_options
@data_dir_option
@click.pass_context
def refs(ctx, query, top_n, show_dangling, limit, show_all, out, data_dir):
    """Where a work is cited; or the most cited works, or the dangling citations.

    \b
    Three modes, one at a time:
      refs WORDS | ID   where a work is cited, found by words of its title or by
                        its id (r0123456789): each citing review and section,
                        with the sentence (--limit N works, --all)
      refs --top N      the N most cited works of this archive
      refs --dangling   every citation marker of this archive that resolves to
                        no reference: where it stands, with its sentence

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
    if bool(query) + bool(top_n) + show_dangling != 1:
        raise click.UsageError("give title words or an id, or --top N, or --dangling")
    if not query and (show_all or ctx.get_parameter_source("limit") == click.core.ParameterSource.COMMANDLINE):
        raise click.UsageError("--limit and --all choose how many works WORDS finds; "
                               "--top N says its number itself, --dangling lists every marker")
    from dataclasses import replace

    from archive import citing

    with read_store(data_dir) as store:
        if top_n:
            rows = citing.top_references(store, top_n)
            out.show(lambda: [r._asdict() for r in rows], lambda: report.top_lines(rows))
            if not rows:
                out.note(report.EMPTY if store.count() == 0 else "no cited works")
            return
        if show_dangling:
            rows = citing.dangling(store)
            out.show(lambda: report.dangling_dicts(rows), lambda: report.dangling_lines(rows))
            return
        from index.engine import engine_for

        directory = resolve_data_dir(data_dir)
        # the embedded engine answers from the archive alone; the cluster for every host
        with (ready(directory) if cluster_mode()
              else engine_for(directory)) as engine:
            # the works first, then the citations of each work shown, one work at a time:
            # a common word's works are cited millions of times (--json shows every work)
            groups = engine.find_uses(store, " ".join(query), 0)
            shown = (replace(g, uses=engine.uses_of(store, g.ref_id))
                     for g in (groups if show_all or out.json else groups[:limit]))
            out.show(lambda: (g.to_dict() for g in shown),
                     lambda: report.uses_lines(shown, len(groups)))


@main.command()
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@output_options
@data_dir_option
def reindex(quiet, out, data_dir):
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
    engine = cluster()
    with open_store(directory) as store:
        if engine is not None:
            with engine:
                rep = with_bar("indexing", quiet or out.json,
                               lambda progress: engine.reindex(store, progress), store.count())
            resumed = " (a stopped run resumed)" if rep.resumed else ""
            out.show({"indexed": rep.indexed, "cluster": engine.target.label, "resumed": rep.resumed},
                     [f"indexed {rep.indexed} reviews into {engine.target.label}{resumed}"])
            return
        rep = with_bar("indexing", quiet or out.json, lambda progress: rebuild(
            store, index_dir(directory), on_wait=waiting, on_progress=progress), store.count())
    out.show({"indexed": rep.indexed}, [f"indexed {rep.indexed} reviews"])


@main.command("merge-segments")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when there was nothing to merge.")
@output_options
@data_dir_option
def merge_segments(quiet, out, data_dir):
    """Merge the search index's small segments that are due (safe to interrupt).

    `reviews ingest` starts this in the background when an ingest leaves a
    merge larger than it does itself; run it by hand (or from cron) to have
    it done now. The archive is not touched. Nothing to do on a cluster
    (REVIEWS_OPENSEARCH): OpenSearch merges its own segments.

    \b
    Examples:
      reviews merge-segments
    """
    from index.indexer import index_dir
    from index.merger import merge_due

    directory = resolve_data_dir(data_dir)
    merged = 0 if cluster_mode() else merge_due(index_dir(directory), on_wait=waiting)
    if merged or not quiet or out.json:
        out.show({"merged": merged}, [f"merged {_n(merged, 'group')} of small segments"
                                      if merged else "no merge was due"])


# -- site, serve ----------------------------------------------------------------------------
@main.command()
@click.argument("site_dir", metavar="[OUT]", required=False, default="_site",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--dry-run", is_flag=True,
              help="Print the plan (what each partition of reviews needs, and why); write nothing.")
@output_options
@data_dir_option
def site(site_dir, quiet, dry_run, out, data_dir):
    """Build the static site (every review, reference and topic, with search) into OUT.

    Re-running writes only the pages and search files that changed. The site uses
    relative links: host the folder anywhere, or open OUT/index.html from disk.
    --dry-run prints what a build would do and why, and writes nothing.

    \b
    Example:
      reviews site _site && reviews serve _site
      reviews site --dry-run _site
    """
    if dry_run:
        from publish.site import plan_site

        with read_store(data_dir) as store:
            plan = plan_site(store, site_dir)
        out.show(plan.as_dict, plan.lines)
        return
    from publish.site import build_site

    with open_store(data_dir) as store:
        def build(progress):  # (the bar follows the review pages)
            return build_site(store, site_dir, on_progress=progress and (
                lambda stage, done, total: stage == "reviews" and progress(done, total)))

        rep = with_bar("building", quiet, build, store.count())
    out.show(rep.as_dict, [rep.summary(), f"open {site_dir / 'index.html'} or run: reviews serve {site_dir}"])


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
