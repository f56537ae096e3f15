"""The engine: the one place where SQL runs.

fpstat's heavy joins and group-bys run as SQL in an embedded DuckDB over Arrow tables, so the
same code scales from a spreadsheet to tens of millions of rows. All SQL text lives in the
``fpstat.engine.sql_*`` modules (DuckDB dialect, kept to what sqlglot can transpile), and every
statement runs through :class:`Engine`, so that a Spark engine can later be put behind the same
interface.
"""

from __future__ import annotations

import os
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa


class Engine:
    """A DuckDB connection with fpstat's settings (deterministic, bounded memory)."""

    name = "duckdb"

    def __init__(self, memory_limit: str | None = None, threads: int | None = None) -> None:
        self.connection = duckdb.connect(database=":memory:")
        # Keep results in insertion order unless a query sorts them: determinism first.
        self.connection.execute("SET preserve_insertion_order = true")
        if memory_limit:
            self.connection.execute("SET memory_limit = ?", [memory_limit])
        threads = threads or int(os.environ.get("FPSTAT_THREADS", "0")) or None
        if threads:
            self.connection.execute(f"SET threads = {int(threads)}")

    def register(self, name: str, table: pd.DataFrame | pa.Table) -> None:
        """Make a DataFrame or Arrow table visible to SQL as ``name`` (no copy)."""
        self.connection.register(name, table)

    def unregister(self, name: str) -> None:
        self.connection.unregister(name)

    def execute(self, sql: str, parameters: list[Any] | None = None) -> None:
        self.connection.execute(sql, parameters or [])

    def arrow(self, sql: str, parameters: list[Any] | None = None) -> pa.Table:
        """Run a query and return an Arrow table."""
        return self.connection.sql(sql, params=parameters).to_arrow_table()

    def frame(self, sql: str, parameters: list[Any] | None = None) -> pd.DataFrame:
        """Run a query and return a pandas DataFrame with Arrow-backed dtypes."""
        return self.arrow(sql, parameters).to_pandas(types_mapper=pd.ArrowDtype)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
