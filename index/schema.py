"""The Whoosh schema: one document per review, one per reference spelling.

The fields and what they hold are described in :mod:`index.document`. Every indexed
field is a :class:`Terms` field: its value is the terms themselves, computed once by
:mod:`index.document` (the analysis is ours, not a Whoosh analyzer chain), so the writer
does no tokenizing. Postings are existence postings with a weight (1.0, or a word's count
for ``w``) and, for ``g`` and ``path``, a value: the part map. Whoosh pickles the schema into the index, so
the field classes live at module level here.
Whoosh writes with it; the index is read by :mod:`index.reader`, which skips it.
"""
from __future__ import annotations

from whoosh import columns, formats
from whoosh.analysis import IDTokenizer
from whoosh.fields import COLUMN, ID, STORED, FieldType, Schema



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
        facet=COLUMN(columns.VarBytesColumn()),
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
