"""Tags."""

from broadsheet.domain.ports import UnitOfWork


async def popular(uow: UnitOfWork) -> list[str]:
    async with uow:
        return await uow.tags.popular()
