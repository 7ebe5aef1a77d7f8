"""The console's own small database: staff passwords and failed sign-ins (record 0023)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import ServiceBase, service_metadata


class Base(ServiceBase):
    __abstract__ = True
    metadata = service_metadata()


class StaffPassword(Base):
    """A staff member's argon2 password hash (the password itself is never stored)."""

    __tablename__ = "staff_passwords"

    staff_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    hash: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime]


class FailedSignIn(Base):
    """One refused sign-in, counted per account and per address to slow guessing."""

    __tablename__ = "failed_sign_ins"
    __table_args__ = (Index("ix_failed_sign_ins_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # "account:<staff id>" or "address:<ip>"
    key: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]
