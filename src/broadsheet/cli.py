"""The ``broadsheet`` command: serve the API, manage the schema, seed demo data."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress

from broadsheet import bootstrap
from broadsheet.domain.ports import Storage
from broadsheet.seed import DEMO_PASSWORD, NAMES, Plan, has_content, seed
from broadsheet.settings import Settings
from broadsheet.storage import open_storage
from broadsheet.storage.sql import SqlStorage

app = typer.Typer(
    help="Broadsheet: a publishing platform (the RealWorld API).", no_args_is_help=True
)
db = typer.Typer(
    help="Database schema: upgrade, downgrade, show the current revision.", no_args_is_help=True
)
app.add_typer(db, name="db")
console = Console()
T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API at http://HOST:PORT/api (docs at /docs)."""
    settings = Settings()
    try:
        bootstrap.signing_secret(settings)  # fail fast, and create the embedded secret once
    except bootstrap.ConfigurationError as error:
        raise _fail(str(error)) from None
    if settings.migrate_on_start:  # once here, not racing in every worker
        asyncio.run(_with_storage(lambda storage: storage.migrate()))
    uvicorn.run(
        "broadsheet.web.app:create_app", factory=True, host=host, port=port, workers=workers
    )


@db.command()
def upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    if revision == "head":
        asyncio.run(_with_storage(lambda storage: storage.migrate()))
    else:
        asyncio.run(_with_sql_storage(lambda storage: storage.migrate_to(revision)))
    console.print(f"Database is at {revision}.")


@db.command()
def downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. -1 or base.")]) -> None:
    """Revert migrations down to REVISION."""
    asyncio.run(_with_sql_storage(lambda storage: storage.downgrade_to(revision)))
    console.print(f"Database downgraded to {revision}.")


@db.command()
def current() -> None:
    """Print the revision the database is at."""
    revision = asyncio.run(_with_sql_storage(lambda storage: storage.schema_revision()))
    console.print(revision or "none (empty database)")


@db.command("check")
def check_command(
    repair: Annotated[bool, typer.Option(help="Fix what is found.")] = False,
) -> None:
    """Check counters and references against the ground truth: one line per finding.

    Exits 1 if something was found and not repaired. Best run on a quiet database: a write
    in flight may show as a finding.
    """
    findings = asyncio.run(_with_storage(lambda storage: storage.check(repair=repair)))
    for finding in findings:
        typer.echo(str(finding))
    if not findings:
        typer.echo("No drift or dangling references found.")
    elif any(not finding.repaired for finding in findings):
        typer.echo(f"{len(findings)} found; run `broadsheet db check --repair` to fix them.")
        raise typer.Exit(code=1)


async def _with_storage(operation: Callable[[Storage], Awaitable[T]]) -> T:
    storage = open_storage(Settings().database_url)
    try:
        return await operation(storage)
    finally:
        await storage.close()


async def _with_sql_storage(operation: Callable[[SqlStorage], Awaitable[T]]) -> T:
    async def on_sql(storage: Storage) -> T:
        if not isinstance(storage, SqlStorage):
            raise _fail("revisions exist for SQL databases only; use `broadsheet db upgrade`")
        return await operation(storage)

    return await _with_storage(on_sql)


@app.command("seed")
def seed_command(
    users: Annotated[int, typer.Option(min=1, help="Demo users to create.")] = 12,
    articles: Annotated[int, typer.Option(min=0, help="Demo articles to write.")] = 40,
) -> None:
    """Fill an empty database with demo users, articles, tags, follows, favorites, comments."""
    asyncio.run(_seed(Settings(), Plan(users=users, articles=articles)))


async def _seed(settings: Settings, plan: Plan) -> None:
    async with bootstrap.running(settings) as broadsheet:
        if await has_content(broadsheet):
            console.print("The database already has articles: nothing seeded.")
            return
        with Progress(console=console) as progress:
            task = progress.add_task("Seeding demo data", total=plan.steps)
            await seed(broadsheet, plan, lambda n: progress.advance(task, n))
    console.print(
        f"Seeded {plan.users} users and {plan.articles} articles. "
        f"Log in as {NAMES[0]}@example.com with password {DEMO_PASSWORD!r}."
    )
