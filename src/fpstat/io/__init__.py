"""Reading office exports: workbooks, delimited text and parquet, fast and faithfully.

``read_export(path)`` returns one :class:`RawSheet` per table: every cell as text plus what
the file stored it as (``kinds``: ``s`` text, ``n`` number, ``d`` date, ``b`` boolean), the
header (two-row headers joined as ``group|sub``), title rows, and each data row's number as
Excel or a text editor shows it. Nothing is interpreted here: schema decides what a number in
an ID column means. ``expand_paths`` turns repeated paths and globs into the files of a source;
``sniff_encoding`` tells UTF-8 from GB18030 by strict decoding.

Modules: :mod:`~fpstat.io.excel` (python-calamine), :mod:`~fpstat.io.text` (CSV/TSV, encodings),
:mod:`~fpstat.io.parquet`, :mod:`~fpstat.io.header` (header rows, titles, grouped headers),
:mod:`~fpstat.io.cells` (text and kind rules), :mod:`~fpstat.io.paths` (globs, formats).
"""

from fpstat.io.paths import expand_paths
from fpstat.io.rawsheet import RawSheet
from fpstat.io.reader import read_export
from fpstat.io.text import sniff_encoding

__all__ = ["RawSheet", "expand_paths", "read_export", "sniff_encoding"]
