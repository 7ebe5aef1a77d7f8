"""Alembic, run from code: each service keeps its own migrations and version table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

import services


def alembic_config(service: str, database_url: str) -> Config:
    """The Alembic configuration of one service's database."""
    config = Config()
    config.set_main_option(
        "script_location", str(Path(services.__file__).parent / service / "migrations")
    )
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade(service: str, database_url: str) -> None:
    """Bring one service's database to the newest schema."""
    command.upgrade(alembic_config(service, database_url), "head")


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render UTC timestamps as `sa.DateTime(timezone=True)`: migrations import no app code."""
    from services.common.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_env(metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    from alembic import context

    from services.common.db import make_engine

    config = context.config
    service = (
        config.attributes.get("service")
        or Path(config.get_main_option("script_location") or "").parent.name
    )
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=f"alembic_version_{service}",
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=_render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
