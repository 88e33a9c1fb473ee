"""Refunds of card payments, through the payment provider's HTTP API. The admin screen calls these with the
request's session."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from ..models.billing import BillingTransaction

PAYMENTS_API = "https://payments.internal.carebridge.example"


async def refund_transaction(session: AsyncSession, transaction_id: uuid.UUID) -> None:
    transaction = await session.get(BillingTransaction, transaction_id, with_for_update=True)
    async with httpx.AsyncClient(base_url=PAYMENTS_API) as client:
        await client.post("/refunds", json={"payment_intent": transaction.stripe_payment_intent_id})
    transaction.status = "REFUNDED"
    transaction.refunded_at = datetime.now(timezone.utc)
    await session.commit()


async def request_refund(session: AsyncSession, transaction_id: uuid.UUID) -> None:
    """Claims the transaction and commits before the provider is called: the row is locked only to claim it."""
    transaction = await session.get(BillingTransaction, transaction_id, with_for_update=True)
    transaction.status = "REFUND_PENDING"
    await session.commit()
    async with httpx.AsyncClient(base_url=PAYMENTS_API) as client:
        await client.post("/refunds", json={"payment_intent": transaction.stripe_payment_intent_id})
