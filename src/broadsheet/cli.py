"""The ``broadsheet`` command: serve the API, manage the schema, seed demo data.

Every expected failure (a bad setting or URL, an unreachable database, an unready schema,
an unknown revision) is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text
from sqlalchemy.engine import make_url

from broadsheet import bootstrap
from broadsheet.domain.errors import Invalid, NotFound, StoreNotReady, StoreUnavailable
from broadsheet.domain.models import Finding, Role
from broadsheet.domain.ports import Storage
from broadsheet.seed import DEMO_PASSWORD, NAMES, Plan, Site, has_content, seed
from broadsheet.services import moderation
from broadsheet.settings import Settings
from broadsheet.storage import InvalidDatabaseUrl, open_storage
from broadsheet.storage.sql import SqlStorage
from broadsheet.storage.sql.migrations import RevisionError

app = typer.Typer(
    help="Broadsheet: a publishing platform (the RealWorld API).", no_args_is_help=True
)
db = typer.Typer(
    help="Database schema: upgrade, downgrade, show the current revision.", no_args_is_help=True
)
app.add_typer(db, name="db")
users_app = typer.Typer(help="Accounts: staff roles.", no_args_is_help=True)
app.add_typer(users_app, name="users")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=2)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()
        )
        raise _fail(f"invalid settings: {problems}") from None


def _run(settings: Settings, operation: Coroutine[Any, Any, T]) -> T:
    """Run ``operation``, turning the failures a user can fix into one line each."""
    try:
        return asyncio.run(operation)
    except StoreUnavailable as error:
        raise _fail(
            f"cannot reach the database at {_shown(settings.database_url)}: {error.reason}"
        ) from None
    except (bootstrap.ConfigurationError, InvalidDatabaseUrl, RevisionError) as error:
        raise _fail(str(error)) from None
    except StoreNotReady as error:
        raise _fail(error.reason) from None


def _shown(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API at http://HOST:PORT/api (docs at /docs)."""
    settings = _settings()
    try:
        bootstrap.check_workers(settings, workers)
    except bootstrap.ConfigurationError as error:
        raise _fail(str(error)) from None
    # Once here, before any worker: a bad setting, an unreachable database or an unready
    # schema is one line now (not a crash loop), migration does not race in every worker,
    # and the generated signing key exists before workers read it.
    _run(settings, _start_and_stop(settings))
    uvicorn.run(
        "broadsheet.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=settings.worker_healthcheck_timeout_seconds,
        server_header=False,  # no "server: uvicorn": nothing to fingerprint
        proxy_headers=False,  # the app trusts BROADSHEET_TRUSTED_PROXIES only (web/app.py)
        loop=_event_loop(),
        http=_http_parser(),
        access_log=settings.access_log,
    )


def _event_loop() -> str:
    """uvloop where it is installed (it is not on Windows), else asyncio's own loop."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def _http_parser() -> str:
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


async def _start_and_stop(settings: Settings) -> None:
    async with bootstrap.running(settings):
        pass


@db.command()
def upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    settings = _settings()
    if revision == "head":
        _run(settings, _with_storage(settings, lambda storage: storage.migrate()))
    else:
        _run(settings, _with_sql_storage(settings, lambda storage: storage.migrate_to(revision)))
    console.print(f"Database is at {revision}.")


# ignore_unknown_options: "-1" is a revision, not an option.
@db.command(context_settings={"ignore_unknown_options": True})
def downgrade(
    revision: Annotated[
        str, typer.Argument(help="Target: -1 (one step back), base (empty), or a revision id.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before.")] = False,
) -> None:
    """Revert migrations down to REVISION, after saying what will be lost."""
    settings = _settings()
    reverted, lost = _run(
        settings, _with_sql_storage(settings, lambda storage: storage.downgrade_plan(revision))
    )
    if not reverted:
        console.print(f"Nothing to revert: the database is at or below {revision}.")
        return
    console.print("This reverts:\n" + "\n".join(f"  {line}" for line in reverted))
    if lost:
        console.print(f"[bold]and deletes {lost}.[/bold]")
    if not yes and not typer.confirm("Continue?", default=False, err=True):
        raise _fail("nothing changed (pass --yes to downgrade without asking)")
    _run(settings, _with_sql_storage(settings, lambda storage: storage.downgrade_to(revision)))
    console.print(f"Database downgraded to {revision}.")


@db.command()
def current() -> None:
    """Print the revision the database is at."""
    settings = _settings()
    revision = _run(
        settings, _with_sql_storage(settings, lambda storage: storage.schema_revision())
    )
    console.print(revision or "none (empty database)")


@db.command("check")
def check_command(
    repair: Annotated[bool, typer.Option(help="Fix what is found.")] = False,
) -> None:
    """Check counters and references against the ground truth: one line per finding.

    Exits 1 if something was found and not repaired. Best run on a quiet database: a write
    in flight may show as a finding.
    """
    settings = _settings()
    findings = _run(settings, _checked(settings, repair=repair))
    for finding in findings:
        typer.echo(str(finding))
    if not findings:
        typer.echo("No drift or dangling references found.")
    elif any(not finding.repaired for finding in findings):
        typer.echo(f"{len(findings)} found; run `broadsheet db check --repair` to fix them.")
        raise typer.Exit(code=1)


@users_app.command("grant")
def grant_command(
    username: Annotated[str, typer.Argument(help="Whose role.")],
    role: Annotated[str, typer.Argument(help="admin, moderator, or none (takes it away).")],
) -> None:
    """Give a user a staff role (or take it away); recorded in the audit log."""
    settings = _settings()

    async def granted(storage: Storage) -> Role | None:
        return await moderation.grant(
            storage.unit_of_work(), clock=bootstrap.SystemClock(), username=username, role=role
        )

    try:
        given = _run(settings, _with_storage(settings, granted))
    except Invalid as error:
        raise _fail("; ".join(f"{f}: {', '.join(r)}" for f, r in error.problems.items())) from None
    except NotFound:
        raise _fail(f"no user is named {username!r}") from None
    article = "an" if given is Role.ADMIN else "a"
    typer.echo(f"{username} is now {f'{article} {given.value}' if given else 'without a role'}.")


async def _checked(settings: Settings, *, repair: bool) -> list[Finding]:
    findings = await _with_storage(settings, lambda store: store.check(repair=repair))
    if any(finding.repaired for finding in findings):
        await bootstrap.invalidate_pages(settings)  # counts the cache may have kept changed
    return findings


async def _with_storage(settings: Settings, operation: Callable[[Storage], Awaitable[T]]) -> T:
    storage = open_storage(settings.database_url, bootstrap.connection_options(settings))
    try:
        return await operation(storage)
    finally:
        await storage.close()


async def _with_sql_storage(
    settings: Settings, operation: Callable[[SqlStorage], Awaitable[T]]
) -> T:
    async def on_sql(storage: Storage) -> T:
        if not isinstance(storage, SqlStorage):
            raise _fail("revisions exist for SQL databases only; use `broadsheet db upgrade`")
        return await operation(storage)

    return await _with_storage(settings, on_sql)


@app.command("seed")
def seed_command(
    users: Annotated[
        int | None, typer.Option(min=1, help="Users (default: max(12, articles / 10)).")
    ] = None,
    articles: Annotated[int, typer.Option(min=0, help="Articles.")] = 40,
    seed: Annotated[int, typer.Option(help="The same number makes the same site.")] = 7,
) -> None:
    """Fill an empty database with demo users, follows, articles, tags, favorites, comments.

    Written in bulk, straight into the tables (collections), a million articles in minutes;
    the proportions are in the module docstring of broadsheet.seed.
    """
    settings = _settings()
    _run(settings, _seed(settings, Plan.of(articles=articles, users=users), seed))


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f}/s", style="progress.data.speed")


async def _seed(settings: Settings, plan: Plan, seed_number: int) -> None:
    async with bootstrap.running(settings) as broadsheet:
        if await has_content(broadsheet):
            console.print("The database already has articles: nothing seeded.")
            return
        site = Site(plan, seed=seed_number, now=broadsheet.clock.now())
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RowsPerSecond(),
            TimeElapsedColumn(),
        )
        async with broadsheet.storage.bulk_loader() as loader:  # refuses a store with users
            with Progress(*columns, console=console) as progress:
                started = time.perf_counter()
                counting = progress.add_task("Counting (articles)", total=plan.articles)
                await asyncio.to_thread(site.count, lambda n: progress.advance(counting, n))
                counted = time.perf_counter()
                writing = progress.add_task("Writing (rows)", total=site.total_rows)
                written = await seed(
                    loader, broadsheet.hasher, site, lambda n: progress.advance(writing, n)
                )
                finished = time.perf_counter()
        await broadsheet.pages.invalidate()  # answers kept while the site was empty
    rows = sum(written.values())
    console.print(
        f"Seeded {plan.users} users and {plan.articles} articles in {finished - started:.1f} s: "
        f"{rows:,} rows written in {finished - counted:.1f} s "
        f"({rows / max(finished - counted, 1e-9):,.0f} rows/s) after counting for "
        f"{counted - started:.1f} s.",
        highlight=False,
    )
    width = max(map(len, written), default=0)
    for table, count in written.items():
        console.print(f"  {table:<{width}}  {count:>12,}", highlight=False)
    console.print(f"Log in as {NAMES[0]}@example.com with password {DEMO_PASSWORD!r}.")
