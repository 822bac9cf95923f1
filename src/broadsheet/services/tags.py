"""Tags."""

from broadsheet.domain.ports import UnitOfWork


async def popular(uow: UnitOfWork) -> list[str]:
    async with uow.read_only():
        return await uow.tags.popular()
