"""``UPDATE jobs ... RETURNING`` in plain SQL, for the batch statements (``batch_sql``).

Plain SQL rather than the ORM: building these statements through the ORM's expressions cost more
CPU than the database took to run them. The rows come back as ``Job``
instances directly: the converters each column needs, as a queryset would apply them, are worked
out once per database, not per statement as ``Model.objects.raw`` does.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection
from django.db.models import Field

from django_app.jobs.models import Job


def db_value(name: str, value: Any) -> Any:
    """``value`` for column ``name`` as the database driver takes it (a UUID is text on SQLite...)."""
    field = Job._meta.get_field(name)
    assert isinstance(field, Field)
    return field.get_db_prep_save(value, connection)


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def update_returning(sql: str, params: list[Any]) -> list[Job]:
    """Runs an ``UPDATE ... RETURNING`` of every column (PostgreSQL; SQLite ≥ 3.35) and gives the
    changed rows as they are now. In autocommit the rows are committed when this returns."""
    columns, converters = _row_reading()
    with _statement_cursor() as cursor:
        cursor.execute(f"UPDATE {Job._meta.db_table} {sql} RETURNING {columns}", params)
        rows = cursor.fetchall()
    jobs = []
    for row in rows:
        values = list(row)
        for position, field_converters, expression in converters:
            for converter in field_converters:
                values[position] = converter(values[position], expression, connection)
        jobs.append(Job.from_db(connection.alias, _JOB_FIELD_NAMES, values))
    return jobs


def update_returning_ids(sql: str, params: list[Any]) -> list[uuid.UUID]:
    """Runs an ``UPDATE ... RETURNING id`` and gives the ids of the changed rows: for a writer that
    knows what the rows hold now (building model instances from ``RETURNING *`` cost more CPU than
    the statement took)."""
    pk = Job._meta.pk
    assert pk is not None
    with _statement_cursor() as cursor:
        cursor.execute(f"UPDATE {Job._meta.db_table} {sql} RETURNING id", params)
        return [pk.to_python(row[0]) for row in cursor.fetchall()]


_JOB_FIELD_NAMES = [field.attname for field in Job._meta.concrete_fields]
_ROW_READING: dict[str, tuple[str, list[tuple[int, list[Any], Any]]]] = {}


def _row_reading() -> tuple[str, list[tuple[int, list[Any], Any]]]:
    """The RETURNING list of every column, and the converters of the columns that need one (a
    JSON column's text, SQLite's dates...), for the current database."""
    key = connection.vendor
    if key not in _ROW_READING:
        converters = []
        for position, field in enumerate(Job._meta.concrete_fields):
            column = field.get_col(Job._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((position, found, column))
        names = ", ".join(connection.ops.quote_name(field.column) for field in Job._meta.concrete_fields)
        _ROW_READING[key] = (names, converters)
    return _ROW_READING[key]


def _statement_cursor() -> Any:
    """On PostgreSQL, a cursor that binds parameters server-side (see ``server_bound_cursor``)."""
    return getattr(connection, "server_bound_cursor", connection.cursor)()
