"""The Whoosh schema: one document per section of a review's current version.

Every numbered section is a document, plus one ``abstract`` document (the
review's title, abstract and keywords) and one ``references`` document (all
reference titles) per review. Every document carries the review's topic, uuid
and received date, so a hit is a section and results group by review.

Matching fields (``CjkTokenizer``: CJK bigrams/unigrams, Latin words; positions):
``topic``, ``title`` (section title), ``body`` (section text).
Ranking field: ``words`` (jieba words of two or more characters of title + body), queried only with terms
that exist in its lexicon, so the query path never loads jieba.
Keys: ``id`` (``uuid/section``, unique), ``uuid`` (sortable column, grouping),
``section`` (``3.1.2`` / ``abstract`` / ``references``), ``path`` (the section
and its ancestors, ``3 3.1 3.1.2``, for ``section:3.1``), ``refs`` (cited
reference ids), ``received`` (``YYYY-MM-DD HH:MM:SS``, filters since/until).

Reference documents: one per reference entry of each review (``refowner`` = the
review's uuid, ``refid``, ``reftitle``), no ``uuid``, so they never appear as
hits. ``ref:words`` first finds the ids whose titles hold the words, then the
sections whose ``refs`` hold those ids.
"""
from __future__ import annotations

from whoosh.analysis import StopFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from index.analysis import CjkTokenizer, WordTokenizer

#: Bump when the schema or the analysis changes: an index of another format is rebuilt.
FORMAT = 1

#: Query-time boosts per matching field.
BOOSTS = {"topic": 4.0, "title": 3.0, "body": 1.0}
WORD_BOOST = 0.5


def make_schema() -> Schema:
    cjk = CjkTokenizer()
    return Schema(
        id=ID(unique=True, stored=True),
        uuid=ID(stored=True, sortable=True),
        section=ID(stored=True),
        order=NUMERIC(stored=True),
        path=KEYWORD(lowercase=False, commas=False, scorable=False),
        heading=STORED(),
        received=ID(stored=True),
        topic=TEXT(analyzer=cjk, stored=True),
        title=TEXT(analyzer=cjk),
        body=TEXT(analyzer=cjk, stored=True),
        refs=KEYWORD(lowercase=False, commas=False, scorable=True),
        # single-character words (的, 在 ...) do not help ranking: not indexed
        words=TEXT(analyzer=WordTokenizer() | StopFilter(stoplist=(), minsize=2, renumber=False),
                   phrase=False),
        # reference documents (one per reference entry of a review): words -> ids
        refowner=ID,
        refid=ID(stored=True),
        reftitle=TEXT(analyzer=cjk),
    )
