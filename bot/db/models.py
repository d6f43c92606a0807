"""Database tables, as typed SQLAlchemy 2 models. Times are naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[dict[str, Any]]: JSON,
        datetime: DateTime(),
    }


class UserProfile(Base):
    """What the bot remembers about a Telegram user outside a lead."""

    __tablename__ = "user_profiles"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Chosen with /language; when unset, the language of the user's latest message.
    language: Mapped[str | None] = mapped_column(String(2))
    written_language: Mapped[str | None] = mapped_column(String(2))
    source: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FormState(Base):
    """A half-filled lead form, saved after every step so no process holds it in memory."""

    __tablename__ = "form_states"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Lead(Base):
    """A submitted form. It belongs to the Telegram user who sent it, and to nobody else."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The form this lead came from: pressing Confirm twice cannot make two leads.
    form_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    source: Mapped[str | None] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(32))
    sector_detail: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    interests: Mapped[list[str]]
    message: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime]
    score: Mapped[int]
    qualified: Mapped[bool]
    # Qualification reasons as codes with values ({"code": "free_mail", "domain": ...}),
    # rendered in the staff language when shown.
    reasons: Mapped[list[dict[str, Any]]]
    status: Mapped[str] = mapped_column(String(16), index=True)
    repeat_count: Mapped[int] = mapped_column(default=0)
    # Earlier submissions of the same user, oldest first: a repeat never erases one.
    history: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    # Another user's lead with the same email: shown to staff, never merged.
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # When a post of this lead may have been made without the bot learning its message id
    # (a send that ended with no outcome: a crash, a timeout after Telegram accepted it).
    # Such a post cannot be withdrawn; /forget and retention ask staff to delete it.
    unsure_since: Mapped[datetime | None]
    handled_by: Mapped[str | None] = mapped_column(String(200))
    handled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxItem(Base):
    """A staff-chat side effect that must happen at least once: a lead's post, an edit of
    it, or the withdrawal of a post whose lead was deleted (then ``lead_id`` is None and
    the target message is in ``chat_id``/``message_id``)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any] | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The claim: whoever holds this token until ``locked_until`` (database clock) may send.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    locked_until: Mapped[datetime | None]
    # Set as a send starts, cleared with its outcome: still set at the next send, the last
    # one ended with none (its process died, or lost its lease mid-send).
    sending_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # Relay rows: the partner they are about (deleted with them by /forget), and the
    # sequence they belong to: rows of one sequence are delivered strictly in id order.
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    sequence: Mapped[str | None] = mapped_column(String(40), index=True)
    # A row that must be queued once however many processes try (the weekly digest).
    dedupe_key: Mapped[str | None] = mapped_column(String(40), unique=True)


class LeadCopy(Base):
    """A message with a lead's details that /lead sent to staff (the copy, its history).

    /forget and retention withdraw it as they withdraw the lead's post: ``withdrawal_id``
    is then the outbox row that edits it to a note, and the record goes once that is done.
    It outlives its lead until then, so ``lead_id`` is no foreign key.
    """

    __tablename__ = "lead_copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(Integer, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # None while the copy is being sent, and after a send that ended without an outcome
    # (a timeout, a crash): deleting the lead then asks staff to check for it.
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawal_id: Mapped[int | None] = mapped_column(Integer, index=True)


class UnansweredQuestion(Base):
    """A question the bot could not answer directly, kept to improve the knowledge base."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    text: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(500), index=True)
    language: Mapped[str] = mapped_column(String(2))
    outcome: Mapped[str] = mapped_column(String(16))
    score: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class InboxUpdate(Base):
    """An update from Telegram, stored before it is acknowledged and handled after.

    ``update_id`` is the key, so Telegram's re-delivery of an update is stored once.
    ``user_key`` (the user, else the chat) orders the work: one user's updates are
    handled one at a time and in order, different users' at once. The payload (it
    holds the message text) is dropped once the update is handled.
    """

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_pending", "status", "user_key", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_key: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    locked_until: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    done_at: Mapped[datetime | None]


class RateHit(Base):
    """Messages a user sent in one fixed window, counted in the database so every worker
    process applies one limit."""

    __tablename__ = "rate_hits"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(default=0)


class RelayConversation(Base):
    """A partner's conversation with staff: one row per partner, open or closed.

    ``topic_id`` is their forum topic in the staff chat (forum mode), kept when the
    conversation closes so that it is reopened, not made again.
    """

    __tablename__ = "relay_conversations"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(8), default="open", index=True)
    language: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(64))
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    topic_id: Mapped[int | None] = mapped_column(BigInteger)
    head_message_id: Mapped[int | None] = mapped_column(BigInteger)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The partner's oldest message since staff last answered (None: nobody waits).
    waiting_since: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class RelayMessage(Base):
    """One relayed message: where it came from and the copy the bot made of it, so a
    staff reply finds its partner and an edit finds its copy, from any process."""

    __tablename__ = "relay_messages"
    __table_args__ = (
        Index("ix_relay_messages_source", "source_chat_id", "source_message_id"),
        Index("ix_relay_messages_copy", "copy_chat_id", "copy_message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    direction: Mapped[str] = mapped_column(String(8))  # "in": to staff; "out": to the partner
    source_chat_id: Mapped[int] = mapped_column(BigInteger)
    source_message_id: Mapped[int] = mapped_column(BigInteger)
    copy_chat_id: Mapped[int] = mapped_column(BigInteger)
    copy_message_id: Mapped[int] = mapped_column(BigInteger)
    # How the copy was made: "card" (a header line above the text), "copy", "signed".
    form: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class RelayBan(Base):
    """A partner whose messages are dropped silently; kept by /forget, lifted by /unban."""

    __tablename__ = "relay_bans"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    reason: Mapped[str | None] = mapped_column(String(300))
    banned_by: Mapped[str] = mapped_column(String(200))
    banned_at: Mapped[datetime] = mapped_column(default=utcnow)


class SharedCounter(Base):
    """A number every worker process must agree on, such as how many times the knowledge
    base was reloaded (each worker reloads when it sees the number grow)."""

    __tablename__ = "shared_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
