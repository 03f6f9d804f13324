"""The only place routers are mounted under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from lynsms.accounts.endpoints import router as accounts_router
from lynsms.billing.endpoints import router as billing_router
from lynsms.campaigns.endpoints import router as campaigns_router
from lynsms.contacts.endpoints import router as contacts_router
from lynsms.media.endpoints import router as media_router
from lynsms.messages.endpoints import router as messages_router
from lynsms.senders.endpoints import router as senders_router
from lynsms.templates.endpoints import router as templates_router
from lynsms.usage.endpoints import router as usage_router
from lynsms.webhooks.endpoints import router as webhooks_router

API_PREFIX = "/api/v1"

router = APIRouter(prefix=API_PREFIX)
router.include_router(messages_router)
router.include_router(accounts_router)
router.include_router(billing_router)
router.include_router(senders_router)
router.include_router(webhooks_router)
router.include_router(usage_router)
router.include_router(contacts_router)
router.include_router(templates_router)
router.include_router(campaigns_router)
router.include_router(media_router)  # Media and MMS (API.md §8)
