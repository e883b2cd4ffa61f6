"""The `buurtbot` command line: one entry point, one subcommand per job."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import typer
from rich.console import Console

from bot.events_cli import association_app, events_app, find_initiative, initiative_app
from config.settings import Settings, SettingsError, load_settings
from importers.cli import import_app
from nlp.cli import classify_command, nlp_app
from storage.db import Database

console = Console(stderr=True)

app = typer.Typer(
    name="buurtbot",
    help="Buurtbot: de chatbot voor buurtpreventie- en buurttoezichtgroepen.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database: schema bijwerken.", no_args_is_help=True)
telegram_app = typer.Typer(help="Telegram: webhook instellen.", no_args_is_help=True)
monitor_app = typer.Typer(help="Communitymonitor Veiligheid: export.", no_args_is_help=True)
app.add_typer(nlp_app, name="nlp")
app.add_typer(db_app, name="db")
app.add_typer(telegram_app, name="telegram")
app.add_typer(import_app, name="import")
app.add_typer(events_app, name="events")
app.add_typer(association_app, name="vereniging")
app.add_typer(initiative_app, name="initiative")
app.add_typer(monitor_app, name="monitor")
app.command("classify")(classify_command)

# `buurtbot worker` runs at this nice level unless told otherwise (see worker_command).
WORKER_NICE = 10


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        console.print(f"[red]✗ {error}[/red]")
        raise typer.Exit(2) from None


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and a Bot API URL contains the bot token; Twilio's client
    # logs requests that name phone numbers.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("twilio").setLevel(logging.WARNING)


def prepared_database(settings: Settings) -> Database:
    """The database, migrated when it is the embedded SQLite file; checked otherwise."""
    from storage.migrate import is_current

    db = Database(settings.database_url)
    if db.is_sqlite:
        db.upgrade()
    elif not is_current(db):
        console.print(
            "[red]✗ Het databaseschema is niet bijgewerkt: draai `buurtbot db upgrade`.[/red]"
        )
        raise typer.Exit(2)
    return db


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Adres om op te luisteren (standaard HOST)."),
    port: int | None = typer.Option(None, help="Poort (standaard PORT)."),
    scheduler: bool = typer.Option(
        True, help="Draai de planner in hetzelfde proces (uit als `buurtbot clock` apart draait)."
    ),
    worker: bool = typer.Option(
        True, help="Verwerk berichten in hetzelfde proces (uit als `buurtbot worker` apart draait)."
    ),
) -> None:
    """Start de webapp (Telegram-webhook, /healthz) met de bezorging van berichten."""
    import uvicorn

    from bot.runtime import Runtime
    from bot.web import create_app

    settings = settings_or_exit()
    setup_logging(settings)
    db = prepared_database(settings)
    runtime = Runtime.build(settings, db, with_scheduler=scheduler)
    runtime.with_workers = worker
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(
        f"[green]✓ Buurtbot draait op http://{bind_host}:{bind_port}[/green]  "
        f"(Telegram: {'aan' if settings.telegram_enabled else 'uit — zet TELEGRAM_BOT_TOKEN'})\n"
        "  Praat zelf met de bot in een tweede terminal: [bold]buurtbot chat[/bold]"
    )
    uvicorn.run(
        create_app(runtime),
        host=bind_host,
        port=bind_port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        forwarded_allow_ips="*",
    )


@app.command()
def chat(
    rol: str = typer.Option("lid", help="Je rol in de demogroep: lid of coordinator."),
    naam: str = typer.Option("Buurtbewoner", help="Je voornaam in de demogroep."),
) -> None:
    """Praat in de terminal met de bot, als lid van een demogroep."""
    from bot.console import run_console

    settings = settings_or_exit()
    db = prepared_database(settings)
    run_console(db, role=rol, name=naam)


@app.command("worker")
def worker_command(
    nice: int = typer.Option(
        WORKER_NICE,
        min=0,
        max=19,
        help="Lagere CPU-prioriteit (nice) zodat de webhook voorgaat op dezelfde machine; 0 = gelijk.",
    ),
) -> None:
    """Start de verwerker (los proces): binnengekomen berichten verwerken en antwoorden bezorgen."""
    import signal

    from bot.runtime import Runtime

    if nice:
        # On a machine shared with the web process, the webhook's answers must not wait for
        # classification: the kernel gives the worker the CPU the web process leaves. A burst
        # is stored at once and handled just after; the worker works at full speed when the
        # machine is otherwise idle, and on its own machine the setting makes no difference.
        os.nice(nice)
    settings = settings_or_exit()
    setup_logging(settings)
    db = prepared_database(settings)
    runtime = Runtime.build(settings, db)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await runtime.run_workers(stop)

    console.print("[green]✓ Verwerker gestart.[/green]")
    asyncio.run(run())


@app.command()
def clock() -> None:
    """Start de planner (los proces): geplande taken zoals het opruimen van oude gegevens."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from bot.clock import configure, leadership

    settings = settings_or_exit()
    setup_logging(settings)
    db = prepared_database(settings)

    def standby() -> None:
        console.print("[yellow]… Er draait al een planner; deze wacht tot die stopt.[/yellow]")

    try:
        with leadership(db, standby):
            scheduler = configure(BlockingScheduler(), db, settings)
            console.print(f"[green]✓ Planner gestart ({settings.timezone}).[/green]")
            scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        console.print("Planner gestopt.")


@app.command()
def trend(
    initiative: str = typer.Option(..., "--initiative", help="Naam van het initiatief."),
    weeks: int = typer.Option(4, "--weeks", min=1, max=520, help="Aantal weken terug."),
    png: Path | None = typer.Option(None, "--png", help="Sla de grafiek op als PNG."),
) -> None:
    """Toon het trendoverzicht van een initiatief, zoals /trend het geeft."""
    from datetime import UTC, datetime

    from handlers.trend import trend_answer

    settings = settings_or_exit()
    db = prepared_database(settings)
    with db.unit_of_work() as session:
        found = find_initiative(session, initiative)
        answer = trend_answer(session, found, f"{weeks}w", datetime.now(UTC), settings.zone)
    typer.echo(answer.text)
    if png is not None:
        png.write_bytes(answer.chart)
        console.print(f"[green]✓ Grafiek opgeslagen in {png}[/green]")


@app.command()
def impact(
    initiative: str = typer.Option(..., "--initiative", help="Naam van het initiatief."),
    as_json: bool = typer.Option(False, "--json", help="Als JSON: level, progress, criteria."),
) -> None:
    """Toon het impactniveau van een initiatief, met hoe het tot stand kwam."""
    import json
    from datetime import UTC, datetime

    from rich.table import Table

    from analytics.impact import score_initiative
    from analytics.impact.explain import figure, level_name, next_step, progress_line
    from handlers.texts import text

    settings = settings_or_exit()
    db = prepared_database(settings)
    with db.unit_of_work() as session:
        found = find_initiative(session, initiative)
        score = score_initiative(session, found.id, datetime.now(UTC))
        name, language = found.name, found.language
    if as_json:
        typer.echo(json.dumps({"initiative": name, **score.as_json()}, ensure_ascii=False))
        return
    out = Console()
    out.print(
        text(
            "impact_headline",
            language,
            initiative=name,
            level=score.level,
            name=level_name(score.level, language),
        )
    )
    table = Table("niveau", "criterium", "waarde", "nodig", "gehaald")
    for criterion in score.criteria:
        table.add_row(
            str(criterion.level),
            text(f"impact_indicator_{criterion.indicator}", language),
            figure(criterion.value, criterion.is_share),
            figure(criterion.threshold, criterion.is_share),
            "✅" if criterion.met else "—",
        )
    out.print(table)
    out.print(progress_line(score, language))
    out.print(text("impact_next_step", language, step=next_step(score, language)))


@monitor_app.command("export")
def monitor_export(
    year: int = typer.Option(..., "--year", min=2000, max=2100, help="Het jaar (bijv. 2026)."),
    out: Path = typer.Option(..., "--out", help="Map voor de CSV en het HTML-rapport."),
) -> None:
    """Schrijf de Communitymonitor (CSV en HTML) van de initiatieven die meedoen."""
    from datetime import UTC, datetime

    from analytics.impact.monitor import build_monitor, write_csv, write_html

    settings = settings_or_exit()
    db = prepared_database(settings)
    with db.unit_of_work() as session:
        entries = build_monitor(session, year, datetime.now(UTC))
    out.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = (
        out / f"communitymonitor-{year}.csv",
        out / f"communitymonitor-{year}.html",
    )
    write_csv(entries, csv_path)
    write_html(entries, year, html_path)
    console.print(
        f"[green]✓ {len(entries)} initiatieven geëxporteerd: {csv_path} en {html_path}[/green]"
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Werk het databaseschema bij naar de nieuwste versie."""
    from storage.migrate import current_revision

    settings = settings_or_exit()
    db = Database(settings.database_url)
    db.upgrade()
    console.print(f"[green]✓ Database bijgewerkt (schema {current_revision(db)}).[/green]")


@telegram_app.command("set-webhook")
def set_webhook(
    url: str | None = typer.Option(None, help="Webhook-URL (standaard PUBLIC_URL + /telegram)."),
) -> None:
    """Meld de webhook met het geheim aan bij Telegram."""
    from bot.telegram import TelegramChannel

    settings = settings_or_exit()
    if settings.telegram_bot_token is None or settings.telegram_webhook_secret is None:
        console.print("[red]✗ Zet eerst TELEGRAM_BOT_TOKEN en TELEGRAM_WEBHOOK_SECRET.[/red]")
        raise typer.Exit(2)
    target = url or (f"{settings.public_url}/telegram" if settings.public_url else None)
    if target is None:
        console.print(
            "[red]✗ Zet PUBLIC_URL (of geef --url) zodat Telegram de bot kan bereiken.[/red]"
        )
        raise typer.Exit(2)
    channel = TelegramChannel(
        settings.telegram_bot_token.get_secret_value(), settings.telegram_base_url
    )

    async def register() -> bool:
        async with channel.bot:
            return await channel.set_webhook(
                target,
                settings.telegram_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
            )

    if not asyncio.run(register()):
        console.print("[red]✗ Telegram weigerde de webhook.[/red]")
        raise typer.Exit(1)
    console.print(f"[green]✓ Webhook ingesteld op {target}[/green]")


def main() -> None:
    """Run the command line."""
    app()
