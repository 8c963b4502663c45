"""The Whoosh schema: one document per review, one per reference spelling.

The fields and what they hold are described in :mod:`index.document`. Every indexed
field is a :class:`Terms` field: its value is the terms themselves, computed once by
:mod:`index.document` (the analysis is ours, not a Whoosh analyzer chain), so the writer
does no tokenizing. Postings are existence postings with a weight (1.0, or a word's count
for ``w``) and, for ``g`` and ``path``, a value: the part map. Whoosh pickles the schema into the index, so
the field classes live at module level here.

The ranking constants live here too; :mod:`index.rank` applies them.
"""
from __future__ import annotations

from whoosh import columns, formats
from whoosh.analysis import IDTokenizer
from whoosh.fields import COLUMN, ID, STORED, FieldType, Schema

from index.spec import spec

#: Bump when the schema or the analysis changes: an index of another format is rebuilt.
FORMAT = 4

#: BM25 parameters and the field boosts of ranking (see :mod:`index.rank`), from the
#: search language's one definition (``index/spec.json``, which the site reads too).
_R = spec()["ranking"]
K1: float = _R["k1"]
B: float = _R["b"]
TOPIC_BOOST: float = _R["topic_boost"]  # a query item in the review's topic
TITLE_BOOST: float = _R["title_boost"]  # a query item in the review's title or section titles
MEET_BOOST: float = _R["meet_boost"]  # extra share of the score when the items meet in a chapter


class Valued(formats.Existence):
    """Existence postings that also keep a variable-length value (a part map)."""

    posting_size = -1


class Terms(FieldType):
    """A field whose value is ``{term: (frequency, weight, value bytes)}``, indexed as
    given. With ``valued`` every posting keeps its (non-empty) value bytes."""

    def __init__(self, scorable: bool = False, valued: bool = False):
        fmt = Valued() if valued else formats.Existence()
        super().__init__(fmt, IDTokenizer(), scorable=scorable)

    def index(self, value, **kwargs):
        return [(t.encode("utf-8"), freq, weight, v) for t, (freq, weight, v) in value.items()]


def make_schema() -> Schema:
    return Schema(
        kind=ID(),
        uuid=ID(stored=True, unique=True),
        key=COLUMN(columns.VarBytesColumn()),
        g=Terms(valued=True),
        w=Terms(scorable=True),
        path=Terms(valued=True),
        refs=Terms(),
        version=STORED(),
        topic=STORED(),
        received=STORED(),
        keys=STORED(),
        cites=STORED(),
        text=COLUMN(columns.VarBytesColumn()),
        rkey=ID(unique=True),
        refid=STORED(),
        rtitle=STORED(),
        rg=Terms(),
    )
