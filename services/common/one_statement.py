"""Inserts gathered in a transaction and sent to the database as one statement.

On PostgreSQL, `WITH w0 AS (INSERT …), w1 AS (INSERT …) INSERT …` is one statement and one
round trip: every part runs, or none does. A transaction that writes nothing else (no
read, no ORM object) needs no BEGIN and no COMMIT around it, because a single statement
on an autocommit connection is a transaction of its own: a report, its timeline row and
its outbox rows went from five round trips to one. Elsewhere (SQLite) the inserts run one
after another inside the transaction, which is what makes them atomic there.

The rows are gathered, not written, until the end of `Messaging.transaction`: nothing in
the transaction can read them back before then. They are for rows written as rows, whose
every value is known (decision record 0032); an ORM object is still added to the session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Insert,
    Table,
    bindparam,
    insert,
    select,
    union_all,
)


@dataclass
class GatheredInserts:
    """Rows for one or more tables, in the order they were added."""

    parts: list[tuple[Insert, dict[str, Any]]] = field(default_factory=list)

    def add(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """`rows` (each with the same columns) for `table`, in this order; nothing if none."""
        if not rows:
            return
        prefix = f"w{len(self.parts)}"
        given = tuple(rows[0])
        defaults = _scalar_defaults(table, given)
        columns = given + tuple(defaults)
        params = {
            f"{prefix}_{i}_{column}": row[column] if column in row else defaults[column]
            for i, row in enumerate(rows)
            for column in columns
        }
        self.parts.append((_insert_of(table, columns, len(rows), prefix), params))

    def __bool__(self) -> bool:
        return bool(self.parts)

    def execute(self, connection: Connection) -> None:
        """Write every row: one statement on PostgreSQL, one per table elsewhere."""
        if connection.dialect.name == "postgresql":
            statements = tuple(statement for statement, _ in self.parts)
            params: dict[str, Any] = {}
            for _, part_params in self.parts:
                params.update(part_params)
            connection.execute(_combined(statements), params)
            return
        for statement, part_params in self.parts:
            connection.execute(statement, part_params)


@lru_cache(maxsize=256)
def _scalar_defaults(table: Table, given: tuple[str, ...]) -> dict[str, Any]:
    """The Python-side defaults of the columns not `given`, filled in here: SQLAlchemy
    fills them in for a plain INSERT, not for one that is a part of another statement."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.key in given or default is None:
            continue
        if not default.is_scalar:
            raise ValueError(f"give {table.name}.{column.key}: its default is not a constant")
        defaults[column.key] = default.arg  # type: ignore[attr-defined]
    return defaults


@lru_cache(maxsize=256)
def _insert_of(table: Table, columns: tuple[str, ...], rows: int, prefix: str) -> Insert:
    """The INSERT of `rows` rows of `columns`, built once per shape.

    Several rows are `INSERT … SELECT …, … UNION ALL SELECT …`, not a VALUES list:
    SQLAlchemy caches the compiled form of the first and never of the second (compiling
    cost more than the rest of a request), and one INSERT keeps the rows in order, as a
    table with a serial key (a timeline) needs. Parameters are named
    `{prefix}_{row}_{column}`, so that parts of one statement do not share a name, and typed
    as their columns (UTC timestamps, JSON).
    """

    def parameters(i: int) -> list[BindParameter[Any]]:
        return [bindparam(f"{prefix}_{i}_{c}", type_=table.c[c].type) for c in columns]

    if rows == 1:
        return insert(table).values(dict(zip(columns, parameters(0), strict=True)))
    selects = union_all(*(select(*parameters(i)) for i in range(rows)))
    return insert(table).from_select(list(columns), selects)


@lru_cache(maxsize=256)
def _combined(statements: tuple[Insert, ...]) -> Insert:
    """The last insert, with the others before it as data-modifying CTEs, built once."""
    *before, last = statements
    if not before:
        return last
    return last.add_cte(*(statement.cte(f"w{i}") for i, statement in enumerate(before)))
