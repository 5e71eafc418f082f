"""The ``pinsphere`` command: manage users, upload and search from a shell.

Every command opens the store the same way :func:`pinsphere.open` does: ``--data`` (a folder
for the embedded default) or the backend URL options, else the ``PINSPHERE_*_URL``
environment variables, else ``./pinsphere-data``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pinsphere.errors import PinsphereError
from pinsphere.models import ROLES, VISIBILITIES
from pinsphere.opening import open_store
from pinsphere.store import PinStore

if TYPE_CHECKING:
    from pinsphere.migrate import MigrationProgress

__all__ = ["main"]


@click.group()
@click.option("--data", type=click.Path(file_okay=False), help="Folder of an embedded store.")
@click.option("--metadata", envvar="PINSPHERE_METADATA_URL", help="Metadata backend URL.")
@click.option("--users", envvar="PINSPHERE_USERS_URL", help="User backend URL.")
@click.option("--blobs", envvar="PINSPHERE_BLOBS_URL", help="Blob backend URL.")
@click.pass_context
def cli(
    ctx: click.Context,
    data: str | None,
    metadata: str | None,
    users: str | None,
    blobs: str | None,
) -> None:
    """Pinsphere: store, tag, search and share media pins."""
    ctx.obj = {"path": data, "metadata": metadata, "users": users, "blobs": blobs}


@contextmanager
def _store(ctx: click.Context) -> Iterator[PinStore]:
    try:
        with open_store(**ctx.obj) as store:
            yield store
    except PinsphereError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("username")
@click.option("--email", default=None, help="E-mail address.")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_create(
    ctx: click.Context, username: str, email: str | None, role: str, password_stdin: bool
) -> None:
    """Create a user; the password is prompted for unless --password-stdin is given."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _store(ctx) as store:
        user = store.users.create(username, password=password, email=email, role=role)
    click.echo(f"created {user.role} {user.username} ({user.id})")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List users."""
    with _store(ctx) as store:
        after = None
        while page := store.users.list(limit=200, after=after):
            for user in page:
                state = " (disabled)" if user.disabled else ""
                click.echo(f"{user.username}\t{user.role}\t{user.email or ''}{state}")
            after = page[-1].username


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", required=True, help="Owner of the new pins.")
@click.option("--title", default=None, help="Title (default: the file name).")
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for several.")
@click.option("--board", default=None, help="Board to put the pins on.")
@click.option("--visibility", type=click.Choice(VISIBILITIES), default="private")
@click.pass_context
def upload(
    ctx: click.Context,
    files: tuple[str, ...],
    username: str,
    title: str | None,
    tags: tuple[str, ...],
    board: str | None,
    visibility: str,
) -> None:
    """Upload files as pins owned by --user."""
    with _store(ctx) as store:
        scope = store.as_user(username)
        for name in files:
            pin = scope.upload(
                name,
                title=title if title is not None else Path(name).stem,
                tags=tags,
                board=board,
                visibility=visibility,
            )
            click.echo(f"{pin.id}\t{pin.media.mime_type}\t{pin.media.size}\t{name}")


@cli.command()
@click.argument("query", default="")
@click.option("--user", "username", default=None, help="Search as this user (else anonymous).")
@click.option("--limit", default=20, show_default=True)
@click.option("--cursor", default=None, help="Continue from a previous page.")
@click.pass_context
def search(
    ctx: click.Context, query: str, username: str | None, limit: int, cursor: str | None
) -> None:
    """Search pins with the query language, e.g. 'tag:animals type:gif sleepy'."""
    with _store(ctx) as store:
        scope = store.as_user(username) if username else store.anonymous
        page = scope.search(query, limit=limit, cursor=cursor)
        for pin in page.items:
            click.echo(f"{pin.id}\t{pin.owner}\t{pin.title}\t{' '.join(pin.tags)}")
        if page.next_cursor:
            click.echo(f"next: --cursor {page.next_cursor}", err=True)


@cli.group()
def db() -> None:
    """Schema versions of SQL databases (SQLite, PostgreSQL)."""


def _sql_urls(ctx: click.Context) -> dict[str, str]:
    from pinsphere.opening import resolve_urls

    metadata, users, _ = resolve_urls(
        ctx.obj["path"], ctx.obj["metadata"], ctx.obj["users"], ctx.obj["blobs"]
    )
    wanted = {"metadata": metadata, "users": users}
    sql = {
        branch: url
        for branch, url in wanted.items()
        if url.split(":", 1)[0].lower() in {"sqlite", "postgresql", "postgresql+psycopg"}
    }
    if not sql:
        raise click.ClickException("neither the metadata nor the users URL is a SQL database")
    return sql


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or upgrade the tables to the newest revision (opening a store does it too)."""
    from pinsphere.backends.sql.migrate import upgrade_schema

    for branch, url in _sql_urls(ctx).items():
        try:
            revision = upgrade_schema(url, branch)  # type: ignore[arg-type]
        except PinsphereError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{branch}: at revision {revision[branch]}")


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Show the revision each database stands at."""
    from pinsphere.backends.sql.migrate import schema_revision

    for branch, url in _sql_urls(ctx).items():
        try:
            revision = schema_revision(url)[branch]
        except PinsphereError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{branch}: {revision or 'not created'}")


@cli.command()
@click.option(
    "--older-than",
    type=click.IntRange(min=0),
    default=3600,
    show_default=True,
    help="Grace period in seconds: younger files may belong to uploads in progress.",
)
@click.pass_context
def sweep(ctx: click.Context, older_than: int) -> None:
    """Remove stored files no pin uses (interrupted uploads and deletions)."""
    with _store(ctx) as store:
        report = store.sweep(older_than=timedelta(seconds=older_than))
    click.echo(
        f"removed {report.staged_removed} partial writes, "
        f"{report.orphans_removed} unused originals, "
        f"{report.derived_removed} derived files of deleted pins and "
        f"{report.incoming_removed} unfinished direct uploads"
    )


@cli.command()
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(min=1), help="Pins at most."
)
@click.option(
    "--stale-after",
    type=click.IntRange(min=0),
    default=600,
    show_default=True,
    help="Seconds after which a pending pin counts as abandoned by the process that uploaded "
    "it (younger ones may still be in its queue).",
)
@click.pass_context
def process(ctx: click.Context, limit: int, stale_after: int) -> None:
    """Derive the thumbnails and media facts of pins left pending or failed.

    For a cron job or a systemd timer beside services that process uploads in the
    background: a pin stays pending when its process stopped before getting to it, and
    failed ones are tried again (a transient error, a plugin fixed since). A pin a service
    is deriving at the same moment is derived twice, which wastes the work but is harmless.
    """
    with _store(ctx) as store:
        ready = store.process_pending(limit=limit, stale_after=timedelta(seconds=stale_after))
    click.echo(f"{ready} {'pin' if ready == 1 else 'pins'} ready")


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Check that every backend answers (and create or upgrade schemas)."""
    with _store(ctx) as store:
        store.check()
    click.echo("ok")


_FIRST_RUN_HINT = """\
This store has no users yet. Create an administrator, then sign in:

    pinsphere{data} users create NAME --role admin
"""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--reload", is_flag=True, default=False, help="Restart on code changes (development)."
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the store as a REST API (needs the http extra).

    Settings of the service come from PINSPHERE_* variables (see pinsphere_http.HTTPSettings);
    with an embedded store a token signing key is generated next to it on first start. With
    several workers, set PINSPHERE_THROTTLE_URL (Redis) so that they share the sign-in limits.
    """
    import importlib.util
    import os

    try:
        import uvicorn

        from pinsphere_http.factory import log_config
    except ImportError as exc:
        raise click.ClickException(
            f"serving needs the http extra ({exc.name} is missing): pip install 'pinsphere[http]'"
        ) from exc
    from pinsphere.opening import ENV_BLOBS, ENV_METADATA, ENV_USERS, resolve_urls

    obj = ctx.obj
    try:
        metadata, users, blobs = resolve_urls(
            obj["path"], obj["metadata"], obj["users"], obj["blobs"]
        )
    except PinsphereError as exc:
        raise click.ClickException(str(exc)) from exc
    environment = {ENV_METADATA: metadata, ENV_USERS: users, ENV_BLOBS: blobs}
    if not os.environ.get("PINSPHERE_SECRET_KEY") and not os.environ.get(
        "PINSPHERE_SECRET_KEY_FILE"
    ):
        if metadata.startswith("sqlite:///"):
            database = Path(metadata.removeprefix("sqlite:///"))
            environment["PINSPHERE_SECRET_KEY_FILE"] = str(database.parent / "http-secret.key")
        elif workers > 1:
            raise click.ClickException(
                "several workers must sign tokens with one key: set PINSPHERE_SECRET_KEY"
            )
    throttle_url = os.environ.get("PINSPHERE_THROTTLE_URL")
    if throttle_url and importlib.util.find_spec("redis") is None:
        # Said once here rather than by every worker as it starts.
        raise click.ClickException(
            "PINSPHERE_THROTTLE_URL needs the redis extra: pip install 'pinsphere[redis]'"
        )
    if workers > 1 and not throttle_url:
        click.echo(
            f"warning: each of the {workers} workers counts sign-in attempts on its own, so "
            f"the limits allow {workers} times as many; set PINSPHERE_THROTTLE_URL=redis://... "
            "to share them",
            err=True,
        )
    # Each worker opens the store itself from the environment (an app factory per process).
    os.environ.update(environment)
    # Opening here also creates or upgrades the schema once, before workers could race to.
    with _store(ctx) as store:
        if not store.users.list(limit=1):
            data = f" --data {obj['path']}" if obj["path"] else ""
            click.echo(_FIRST_RUN_HINT.format(data=data), err=True)
    # uvicorn --workers without uvloop and httptools serves ~10x fewer requests (Nagle's
    # delay on keep-alive); use them whenever they are installed.
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "auto"
    http = "httptools" if importlib.util.find_spec("httptools") else "auto"
    uvicorn.run(
        "pinsphere_http.factory:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        loop=loop,
        http=http,
        # Client addresses come from PINSPHERE_TRUSTED_PROXIES alone, one rule in one place.
        proxy_headers=False,
        log_config=log_config(),
    )


@cli.command()
@click.option("--to-metadata", required=True, help="Metadata backend URL of the new store.")
@click.option(
    "--to-users", default=None, help="User backend URL of the new store (default: --to-metadata)."
)
@click.option("--to-blobs", required=True, help="Blob backend URL of the new store.")
@click.option("--page-size", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--jobs", default=4, show_default=True, type=click.IntRange(1, 64), help="Blobs copied at once."
)
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.pass_context
def migrate(
    ctx: click.Context,
    to_metadata: str,
    to_users: str | None,
    to_blobs: str,
    page_size: int,
    jobs: int,
    progress: bool,
) -> None:
    """Copy the whole store (the global options name it) into another set of backends.

    Every blob is verified by its sha256 while it streams. Run it again after an
    interruption: what the new store has already is skipped. Public links, API tokens and
    refresh tokens are copied with their digests, so they keep working unchanged (sessions
    as long as the service keeps its signing key).
    """
    from pinsphere.migrate import migrate_store
    from pinsphere.opening import resolve_urls
    from pinsphere.plugins import get_hooks
    from pinsphere.registry import scheme_of

    if to_users is None:
        if scheme_of(to_metadata) not in get_hooks().registry.schemes("users"):
            raise click.ClickException("--to-metadata cannot hold users: give --to-users")
        to_users = to_metadata
    target_urls = (to_metadata, to_users, to_blobs)
    obj = ctx.obj
    try:
        source_urls = resolve_urls(obj["path"], obj["metadata"], obj["users"], obj["blobs"])
    except PinsphereError as exc:
        raise click.ClickException(str(exc)) from exc
    if set(source_urls) & set(target_urls):
        raise click.ClickException("the new store must not share a backend with this one")
    with _store(ctx) as source:
        try:
            with (
                open_store(metadata=to_metadata, users=to_users, blobs=to_blobs) as target,
                _migration_display(progress) as show,
            ):
                report = migrate_store(
                    source, target, progress=show, page_size=page_size, jobs=jobs
                )
        except PinsphereError as exc:
            raise click.ClickException(f"{exc} (run the command again to continue)") from exc
    click.echo(report.summary())
    if not report.ok:
        ctx.exit(1)


@contextmanager
def _migration_display(enabled: bool) -> Iterator[Callable[[MigrationProgress], None] | None]:
    """A progress callback drawing a rich progress bar (plain lines without rich)."""
    if not enabled:
        yield None
        return
    try:
        from rich.console import Console
        from rich.filesize import decimal
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
        )
    except ImportError:  # rich is optional: fall back to a line per step
        last: list[str] = []

        def plain(state: MigrationProgress) -> None:
            line = f"{state.stage}: {state.done}" + (f"/{state.total}" if state.total else "")
            if not last or last[0].split(":")[0] != state.stage or state.done == state.total:
                click.echo(line, err=True)
            last[:] = [line]

        yield plain
        return
    columns = (
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[size]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        tasks: dict[str, TaskID] = {}

        def show(state: MigrationProgress) -> None:
            if state.stage not in tasks:
                tasks[state.stage] = bar.add_task(state.stage, total=state.total, size="")
            bar.update(
                tasks[state.stage],
                completed=state.done,
                total=state.total,
                size=decimal(state.bytes_copied),
            )

        yield show


def main() -> None:
    """Entry point of the ``pinsphere`` console script."""
    cli()
