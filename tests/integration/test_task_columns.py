"""The task's columns are defined once: the tasks table (a migration) and the Task struct must
name the same fields, and the API's TaskOut must list them in the same order."""

import asyncpg

from app.api.schemas import TaskOut
from events.state import Task
from projections.rows import COLUMNS

TABLE_COLUMNS = """
SELECT attname
  FROM pg_attribute
 WHERE attrelid = 'tasks'::regclass
   AND attnum > 0
   AND NOT attisdropped
"""


async def test_the_tasks_table_and_the_task_struct_name_the_same_fields(
    pool: asyncpg.Pool,
) -> None:
    table = {r["attname"] for r in await pool.fetch(TABLE_COLUMNS)}
    assert table == set(COLUMNS), "a migration and events/state.py Task disagree"
    assert set(Task.__struct_fields__) - table == {"deleted"}  # a deleted task has no row


def test_the_api_shows_the_columns_in_the_task_order() -> None:
    assert TaskOut.__struct_fields__ == COLUMNS
