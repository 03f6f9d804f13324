"""All SQL about templates."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.models import Template


class TemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, account_id: str, template_id: str) -> Template | None:
        return await self.session.scalar(
            select(Template).where(Template.account_id == account_id, Template.id == template_id)
        )

    async def find(self, account_id: str, name: str) -> Template | None:
        return await self.session.scalar(
            select(Template).where(Template.account_id == account_id, Template.name == name)
        )

    async def add(self, template: Template) -> None:
        """Raises ``IntegrityError`` when the account has the name already."""
        self.session.add(template)
        await self.session.flush()

    async def flush(self) -> None:
        await self.session.flush()

    async def delete(self, template: Template) -> None:
        await self.session.delete(template)
        await self.session.flush()

    async def page(self, account_id: str, offset: int, limit: int) -> tuple[list[Template], int]:
        where = Template.account_id == account_id
        total = await self.session.scalar(select(func.count()).select_from(Template).where(where))
        rows = await self.session.scalars(
            select(Template).where(where).order_by(Template.id.desc()).offset(offset).limit(limit)
        )
        return list(rows), int(total or 0)
