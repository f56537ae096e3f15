"""Map export headers to the data contract, normalise values, split accepted and rejected rows.

The public API (see docs/internals.md for the tables):

* :func:`load_inputs` with :class:`InputSpec` -> :class:`LoadResult` (records and count tables by
  role, rejects, manifest entries);
* the contract: :data:`RECORD_FIELDS`, :data:`COUNT_FIELDS`, :data:`RECORD_ROLES`,
  :data:`COUNT_ROLES`, :data:`ROLES`, :data:`REJECT_COLUMNS`, :func:`empty_records`,
  :func:`empty_counts`;
* for the reader: :func:`header_scorer`; for callers that need it: :func:`infer_role`.
"""

from fpstat.schema.fields import (
    COUNT_COLUMNS,
    COUNT_FIELDS,
    COUNT_ROLES,
    RECORD_COLUMNS,
    RECORD_FIELDS,
    RECORD_ROLES,
    REJECT_COLUMNS,
    ROLES,
    empty_counts,
    empty_records,
    empty_rejects,
)
from fpstat.schema.headers import header_scorer, match_header, normalise_header
from fpstat.schema.load import InputSpec, LoadResult, load_inputs
from fpstat.schema.mapping import read_mapping
from fpstat.schema.reasons import REASONS
from fpstat.schema.roles import infer_role

__all__ = [
    "COUNT_COLUMNS", "COUNT_FIELDS", "COUNT_ROLES", "RECORD_COLUMNS", "RECORD_FIELDS",
    "RECORD_ROLES", "REJECT_COLUMNS", "REASONS", "ROLES", "InputSpec", "LoadResult",
    "empty_counts", "empty_records", "empty_rejects", "header_scorer", "infer_role",
    "load_inputs", "match_header", "normalise_header", "read_mapping",
]
