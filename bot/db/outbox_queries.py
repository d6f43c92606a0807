"""The outbox's queries: leasing due items to one sender, and recording what happened.

Part of ``Store`` (a mixin, so handlers still see one object); kept apart because the
delivery guarantees live here. A claim gives every row it takes one random lease
token and an expiry computed by the database's own clock, so workers on different
machines agree on when a lease lapses. Whatever a worker records afterwards names its
token (``WHERE id = ? AND lease_token = ?``): once another worker holds the row, the
first one's writes match nothing and change nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Update,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.db.dialect import db_now
from bot.db.models import Lead, LeadCopy, OutboxItem, utcnow

# How a withdrawal of a staff post reads, by why its lead was deleted (a template name).
FORGOTTEN = "forgotten"  # the person used /forget
EXPIRED = "expired"  # the retention period ended
WITHDRAWN = "withdrawn"  # deleted while its post was being made; the reason is not known
SUPERSEDED = "superseded"  # a newer post of the lead replaces it
CLAIM_LOCK_KEY = 0x5042_4F42  # "PBOB": PostgreSQL advisory lock held while claiming


@dataclass(frozen=True)
class Claim:
    """An outbox row leased to this worker, with its lead (None for withdrawals)."""

    item: OutboxItem
    lead: Lead | None
    token: str


class Outcome(Enum):
    """What recording a delivery found."""

    DONE = "done"  # recorded under our lease
    LOST = "lost"  # another worker holds the row now: nothing was written
    GONE = "gone"  # the row was deleted with its lead (/forget, retention)


@dataclass(frozen=True)
class StuckItem:
    id: int
    kind: str
    lead_id: int | None
    attempts: int
    reason: str


@dataclass(frozen=True)
class DeliveryHealth:
    """For /stats and metrics: what waits, what gave up and why."""

    pending: int
    stuck: int
    stuck_reasons: dict[str, int]
    oldest_pending_age: timedelta | None
    stuck_items: list[StuckItem]


class OutboxQueries:
    engine: AsyncEngine
    session: async_sessionmaker[AsyncSession]

    def _db_now(self, plus: timedelta = timedelta(0)) -> ColumnElement[datetime]:
        return db_now(self.engine, plus)

    async def claim_due(
        self,
        now: datetime,
        lease: timedelta,
        limit: int = 20,
        only: int | None = None,
        *,
        withdrawals_only: bool = False,
    ) -> list[Claim]:
        """Lease due rows (or row ``only``) to this worker; ``withdrawals_only``: only the
        withdrawals of messages in a chat they name (no row meant for the staff chat).

        ``now`` decides what is due; the database's clock decides when a lease lapses.
        """
        token = secrets.token_hex(16)
        due = (
            select(OutboxItem.id)
            .where(
                OutboxItem.status == "pending",
                OutboxItem.next_attempt_at <= now,
                or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < self._db_now()),
            )
            .order_by(OutboxItem.id)
            .limit(limit)
            # PostgreSQL: rows another worker is claiming right now are passed over, not
            # waited for. SQLite has no row locks (and SQLAlchemy leaves this out): it
            # runs one writer at a time, so the single UPDATE below is already atomic.
            .with_for_update(skip_locked=True)
        )
        if only is not None:
            due = due.where(OutboxItem.id == only)
        if withdrawals_only:
            due = due.where(OutboxItem.kind == "withdraw", OutboxItem.chat_id.is_not(None))
        # A row of a sequence (one partner's relayed messages) waits while an earlier row of
        # it waits (not due yet, or leased to a worker): a burst arrives in order.
        earlier = aliased(OutboxItem)
        held = (
            select(earlier.id)
            .where(
                earlier.sequence == OutboxItem.sequence,
                earlier.id < OutboxItem.id,
                earlier.status == "pending",
                or_(
                    earlier.next_attempt_at > now,
                    earlier.locked_until >= self._db_now(),
                ),
            )
            .exists()
        )
        due = due.where(or_(OutboxItem.sequence.is_(None), ~held))
        claim = (
            update(OutboxItem)
            .where(OutboxItem.id.in_(due.scalar_subquery()))
            .values(lease_token=token, locked_until=self._db_now(lease))
            .returning(OutboxItem)
            .execution_options(synchronize_session=False)
        )
        async with self.session.begin() as session:
            if self.engine.dialect.name == "postgresql":
                # Claims take turns, so a claim sees the rows an earlier one leased (which
                # SKIP LOCKED would pass over unseen) and a sequence is never split.
                await session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK_KEY)))
            items = sorted((await session.scalars(claim)).all(), key=lambda item: item.id)
            lead_ids = {item.lead_id for item in items if item.lead_id is not None}
            leads = {
                lead.id: lead
                for lead in (await session.scalars(select(Lead).where(Lead.id.in_(lead_ids)))).all()
            }
        return [
            Claim(item, leads.get(item.lead_id) if item.lead_id is not None else None, token)
            for item in items
        ]

    async def renew_lease(self, item_id: int, token: str, lease: timedelta) -> int | None:
        """Extend our lease right before a send and count the attempt.

        Returns the attempts so far, or None if the row is no longer ours: then skip it.
        Attempts are counted here, not at the claim, so rows another worker took over
        before we reached them do not run out of attempts without ever being tried.
        """
        ours = (
            OutboxItem.id == item_id,
            OutboxItem.lease_token == token,
            OutboxItem.status == "pending",
        )
        statement = (
            update(OutboxItem)
            .where(*ours)
            .values(locked_until=self._db_now(lease), attempts=OutboxItem.attempts + 1)
            .returning(OutboxItem.attempts)
        )
        async with self.session.begin() as session:
            # The outbox row first, then the lead: the order ``mark_sent`` locks them in.
            last = (
                await session.execute(
                    select(OutboxItem.lead_id, OutboxItem.sending_since)
                    .where(*ours)
                    .with_for_update()
                )
            ).one_or_none()
            if last is None:
                return None
            attempts = await session.scalar(statement)
            if last.sending_since is not None:
                # The last post of this row ended with no outcome: its process died, or
                # lost its lease, maybe after Telegram accepted it.
                await _mark_unsure(session, last.lead_id, last.sending_since)
            return attempts

    async def sending(self, item_id: int, token: str) -> None:
        """A new post of the row's lead is about to be sent: until its outcome is recorded
        (which clears this), it may be made without the bot learning its id."""
        statement = update(OutboxItem).values(sending_since=self._db_now())
        async with self.session.begin() as session:
            await _leased(session, statement, item_id, token)

    async def mark_sent(
        self,
        item_id: int,
        token: str,
        chat_id: int | None = None,
        message_id: int | None = None,
        *,
        shown: datetime | None = None,
        edited: tuple[int, int] | None = None,
        gone: tuple[int, int] | None = None,
    ) -> Outcome:
        """Done; GONE: withdraw what was sent.

        A lead has one live post, the one /forget and retention withdraw. A new post
        (``chat_id``, ``message_id``) becomes it, and the lead's previous post is withdrawn
        (unless it is ``gone``: found deleted). A post ``edited`` that is no longer the
        lead's (a newer one was recorded meanwhile) is withdrawn again. ``shown`` is the
        lead's ``updated_at`` as the post showed it; when the lead changed since (a repeat,
        a staff button), a refresh is queued.
        """
        statement = update(OutboxItem).values(
            status="sent", sent_at=utcnow(), lease_token=None, locked_until=None, sending_since=None
        )
        async with self.session.begin() as session:
            # The outbox row first, then the lead: the order /forget locks them in too.
            outcome = await _leased(session, statement, item_id, token)
            if outcome != Outcome.DONE:
                return outcome
            item = (
                await session.execute(
                    select(OutboxItem.lead_id, OutboxItem.kind).where(OutboxItem.id == item_id)
                )
            ).one()
            if item.kind == "withdraw":
                # A copy /lead sent, taken back (or found deleted): its record is done with.
                await session.execute(delete(LeadCopy).where(LeadCopy.withdrawal_id == item_id))
                return outcome
            lead_id = item.lead_id
            # Locked, so a change being saved now is either seen here or sees this post.
            lead = (
                await session.execute(
                    select(Lead.staff_chat_id, Lead.staff_message_id, Lead.updated_at)
                    .where(Lead.id == lead_id)
                    .with_for_update()
                )
            ).one_or_none()
            if lead_id is None or lead is None:
                return outcome
            current = None
            if lead.staff_chat_id is not None and lead.staff_message_id is not None:
                current = (int(lead.staff_chat_id), int(lead.staff_message_id))
            stale: list[tuple[int, int]] = []  # posts of the lead that are not its post
            if message_id is not None and chat_id is not None:
                await session.execute(
                    update(Lead)
                    .where(Lead.id == lead_id)
                    .values(staff_chat_id=chat_id, staff_message_id=message_id)
                )
                if current is not None and current not in (gone, (chat_id, message_id)):
                    stale.append(current)
            elif edited is not None and current is not None and edited != current:
                stale.append(edited)
            session.add_all(
                withdrawal(chat, message, lead_id, SUPERSEDED) for chat, message in stale
            )
            if shown is not None and lead.updated_at != shown:
                session.add(OutboxItem(lead_id=lead_id, kind="refresh"))
            return outcome

    async def release(self, item_id: int, token: str) -> Outcome:
        """Give a leased row back untried (an earlier row of its sequence failed)."""
        statement = update(OutboxItem).values(
            lease_token=None, locked_until=None, sending_since=None
        )
        async with self.session.begin() as session:
            return await _leased(session, statement, item_id, token)

    async def mark_retry(
        self, item_id: int, token: str, error: str, at: datetime, *, unsure: bool = False
    ) -> Outcome:
        """Try again at ``at``. ``unsure``: the send may have been accepted all the same
        (a timeout, a dropped connection): its lead may show twice (``Lead.unsure_since``)."""
        statement = update(OutboxItem).values(
            next_attempt_at=at,
            lease_token=None,
            locked_until=None,
            last_error=error[:300],
            sending_since=None,
        )
        return await self._failed(statement, item_id, token, unsure)

    async def mark_stuck(
        self, item_id: int, token: str, reason: str, *, unsure: bool = False
    ) -> Outcome:
        """Stop retrying until a person says so (/retry); ``unsure`` as for ``mark_retry``."""
        statement = update(OutboxItem).values(
            status="stuck",
            lease_token=None,
            locked_until=None,
            last_error=reason[:300],
            sending_since=None,
        )
        return await self._failed(statement, item_id, token, unsure)

    async def _failed(self, statement: Update, item_id: int, token: str, unsure: bool) -> Outcome:
        async with self.session.begin() as session:
            # Read under the lease, before the outcome clears it: was a new post in flight?
            last = (
                await session.execute(
                    select(OutboxItem.lead_id, OutboxItem.sending_since).where(
                        OutboxItem.id == item_id, OutboxItem.lease_token == token
                    )
                )
            ).one_or_none()
            outcome = await _leased(session, statement, item_id, token)
            if unsure and outcome == Outcome.DONE and last and last.sending_since is not None:
                await _mark_unsure(session, last.lead_id, last.sending_since)
            return outcome

    async def queue_withdrawal(
        self, chat_id: int, message_id: int, lead_id: int, note: str, delete: bool, at: datetime
    ) -> int:
        """A staff post to take back, due at ``at``, durably; returns the outbox row's id."""
        async with self.session.begin() as session:
            item = withdrawal(chat_id, message_id, lead_id, note, delete)
            item.next_attempt_at = at
            session.add(item)
            await session.flush()
            return item.id

    async def retry_stuck(self, item_id: int | None = None) -> int:
        """Requeue one stuck row, or all of them, with a fresh allowance of attempts."""
        statement = (
            update(OutboxItem)
            .where(OutboxItem.status == "stuck")
            .values(status="pending", attempts=0, next_attempt_at=utcnow())
        )
        if item_id is not None:
            statement = statement.where(OutboxItem.id == item_id)
        async with self.session.begin() as session:
            return _count(await session.execute(statement))

    async def delivery_health(self, now: datetime, limit: int = 10) -> DeliveryHealth:
        """Counts of pending and stuck rows, stuck reasons, and how long the oldest has waited."""
        async with self.session() as session:
            counts = dict(
                (
                    await session.execute(
                        select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
                    )
                ).all()
            )
            oldest = await session.scalar(
                select(func.min(OutboxItem.created_at)).where(OutboxItem.status == "pending")
            )
            reasons = (
                await session.execute(
                    select(func.coalesce(OutboxItem.last_error, "-"), func.count())
                    .where(OutboxItem.status == "stuck")
                    .group_by(OutboxItem.last_error)
                    .order_by(func.count().desc())
                )
            ).all()
            stuck = (
                await session.scalars(
                    select(OutboxItem)
                    .where(OutboxItem.status == "stuck")
                    .order_by(OutboxItem.id)
                    .limit(limit)
                )
            ).all()
        return DeliveryHealth(
            pending=counts.get("pending", 0),
            stuck=counts.get("stuck", 0),
            stuck_reasons={reason: n for reason, n in reasons},
            oldest_pending_age=max(now - oldest, timedelta(0)) if oldest else None,
            stuck_items=[
                StuckItem(i.id, i.kind, i.lead_id, i.attempts, i.last_error or "-") for i in stuck
            ],
        )

    async def outbox(self) -> list[OutboxItem]:
        async with self.session() as session:
            return list((await session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


def withdrawal(
    chat_id: int | None,
    message_id: int | None,
    lead_id: int,
    note: str,
    delete: bool = False,
    unsure_since: datetime | None = None,
) -> OutboxItem:
    """An outbox row that replaces a staff post by ``staff/<note>`` (or deletes it).

    ``unsure_since``: a post of the lead may have been made then without the bot learning
    its id; the note asks staff to delete it (and is sent as a message of its own where
    the lead has no post the bot knows: ``message_id`` None, in ``chat_id`` or, if None,
    the staff chat)."""
    payload: dict[str, object] = {"lead_id": lead_id, "note": note, "delete": delete}
    if unsure_since is not None:
        payload["unsure_since"] = unsure_since.isoformat(timespec="minutes")
    return OutboxItem(kind="withdraw", chat_id=chat_id, message_id=message_id, payload=payload)


async def _mark_unsure(session: AsyncSession, lead_id: int | None, since: datetime) -> None:
    """Note that a post of lead ``lead_id`` may have been made at ``since`` unrecorded
    (the earliest such time is kept)."""
    if lead_id is None:
        return
    await session.execute(
        update(Lead)
        .where(Lead.id == lead_id, Lead.unsure_since.is_(None))
        .values(unsure_since=since)
    )


async def delete_leads(session: AsyncSession, where: ColumnElement[bool], note: str) -> int:
    """Delete the leads ``where`` matches and queue the withdrawal of their staff posts
    and of the copies /lead sent of them.

    Runs inside the caller's transaction, so a crash or a 429 cannot leave a post
    about a deleted lead behind: the withdrawal commits with the deletion.
    """
    # Outbox rows first, then the leads: the order in which a worker marking a post
    # sent locks them. Its post is then either on the lead read below (and withdrawn
    # here) or its row is gone when it records it (and it withdraws the post itself).
    leads = select(Lead.id).where(where)
    # A post still in flight, or left so by a crash not yet noticed at the row's next send,
    # may show its lead unrecorded: the row says so until it goes now.
    flying = await session.execute(
        select(OutboxItem.lead_id, func.min(OutboxItem.sending_since))
        .where(OutboxItem.lead_id.in_(leads), OutboxItem.sending_since.is_not(None))
        .group_by(OutboxItem.lead_id)
    )
    in_flight = {lead_id: since for lead_id, since in flying.all()}
    await session.execute(delete(OutboxItem).where(OutboxItem.lead_id.in_(leads)))
    found = (
        await session.execute(
            select(Lead.id, Lead.staff_chat_id, Lead.staff_message_id, Lead.unsure_since)
            .where(where)
            .with_for_update()
        )
    ).all()
    unsent = await _unsent_copies(session, [lead_id for lead_id, *_ in found])
    posts = [
        (
            lead_id,
            chat_id,
            message_id,
            _earliest(unsure, in_flight.get(lead_id), _take(unsent, lead_id, chat_id)),
        )
        for lead_id, chat_id, message_id, unsure in found
    ]
    # A lead whose post may have been made unrecorded gets its note even without a post
    # the bot knows: staff are asked to delete what the bot cannot.
    session.add_all(
        withdrawal(chat_id, message_id, lead_id, note, unsure_since=unsure)
        if chat_id is not None and message_id is not None
        else withdrawal(None, None, lead_id, note, unsure_since=unsure)
        for lead_id, chat_id, message_id, unsure in posts
        if (chat_id is not None and message_id is not None) or unsure is not None
    )
    # A copy that may show in another chat (a staff member's private chat) is named there,
    # where staff can find it: a note of its own in that chat.
    session.add_all(
        withdrawal(chat_id, None, lead_id, note, unsure_since=since)
        for (lead_id, chat_id), since in unsent.items()
    )
    await _withdraw_copies(session, [lead_id for lead_id, *_ in posts], note)
    return _count(await session.execute(delete(Lead).where(where)))


async def _unsent_copies(
    session: AsyncSession, lead_ids: list[int]
) -> dict[tuple[int, int], datetime]:
    """Take the records of copies of these (locked) leads that have no message id: each
    is a send in flight or one that ended without an outcome. When the earliest began, by
    lead and chat. A copy in flight that lands finds its record gone and is withdrawn by
    its sender."""
    if not lead_ids:
        return {}
    unsent = LeadCopy.lead_id.in_(lead_ids) & LeadCopy.message_id.is_(None)
    found = await session.execute(
        select(LeadCopy.lead_id, LeadCopy.chat_id, func.min(LeadCopy.created_at))
        .where(unsent)
        .group_by(LeadCopy.lead_id, LeadCopy.chat_id)
    )
    await session.execute(delete(LeadCopy).where(unsent))
    return {(lead_id, chat_id): since for lead_id, chat_id, since in found.all()}


def _take(
    unsent: dict[tuple[int, int], datetime], lead_id: int, chat_id: int | None
) -> datetime | None:
    """The doubt about copies in the chat of the lead's post, which its note carries."""
    return None if chat_id is None else unsent.pop((lead_id, chat_id), None)


def _earliest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return min(known) if known else None


async def _withdraw_copies(session: AsyncSession, lead_ids: list[int], note: str) -> None:
    """Queue the withdrawal of the copies /lead sent of these (locked) leads.

    Read after the leads are locked: a copy being recorded now is either seen here or
    finds its lead gone (and its sender withdraws it). Each record names its withdrawal
    and stays until that is done (``mark_sent``).
    """
    if not lead_ids:
        return
    copies = (
        await session.scalars(
            select(LeadCopy)
            .where(
                LeadCopy.lead_id.in_(lead_ids),
                LeadCopy.withdrawal_id.is_(None),
                LeadCopy.message_id.is_not(None),
            )
            .order_by(LeadCopy.id)
        )
    ).all()
    if not copies:
        return
    items = [withdrawal(c.chat_id, c.message_id, c.lead_id, note) for c in copies]
    session.add_all(items)
    await session.flush()
    for copy, item in zip(copies, items, strict=True):
        copy.withdrawal_id = item.id


async def _leased(session: AsyncSession, statement: Update, item_id: int, token: str) -> Outcome:
    """Run ``statement`` on the row only while ``token`` holds it, and say what happened."""
    result = await session.execute(
        statement.where(OutboxItem.id == item_id, OutboxItem.lease_token == token)
    )
    if _count(result) == 1:
        return Outcome.DONE
    exists = await session.scalar(select(OutboxItem.id).where(OutboxItem.id == item_id))
    return Outcome.LOST if exists is not None else Outcome.GONE


def _count(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)
