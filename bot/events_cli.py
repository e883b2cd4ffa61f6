"""Command line for the association: its staff, initiatives' regions, and regional events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from storage.db import Database
from storage.models import Channel, Initiative, RegionalEvent, Role

console = Console(stderr=True)
out = Console()

events_app = typer.Typer(
    help="Evenementen van de vereniging: maken, versturen, volgen.", no_args_is_help=True
)
association_app = typer.Typer(
    help="De landelijke vereniging: medewerkers met de rol vereniging.", no_args_is_help=True
)
initiative_app = typer.Typer(
    help="Initiatieven: aanmaken, regio instellen, aanmeldcode, rollen.", no_args_is_help=True
)

ASSOCIATION_NAME = "Landelijke Vereniging Veiligheidsinitiatief"


@contextmanager
def open_database() -> Iterator[tuple[Settings, Database]]:
    """The settings and the database, closed again when the command is done."""
    from bot.cli import prepared_database, settings_or_exit

    settings = settings_or_exit()
    db = prepared_database(settings)
    try:
        yield settings, db
    finally:
        db.dispose()


def find_initiative(session: Session, name: str) -> Initiative:
    """The initiative called `name`; a clear error (Dutch and English) and exit 1 if none is."""
    from handlers.texts import text

    found = session.scalars(select(Initiative).where(Initiative.name == name)).first()
    if found is None:
        dutch = text("cli_unknown_initiative", "nl", initiative=name)
        english = text("cli_unknown_initiative", "en", initiative=name)
        console.print(f"[red]✗ {dutch} ({english})[/red]")
        raise typer.Exit(1)
    return found


def _person(telegram: int | None, whatsapp: str | None) -> tuple[str, str]:
    """(channel, external id) of the person given on the command line."""
    if (telegram is None) == (whatsapp is None):
        console.print(
            "[red]✗ Geef precies één van --telegram (gebruikers-id) of --whatsapp (+31...).[/red]"
        )
        raise typer.Exit(2)
    if telegram is not None:
        return Channel.TELEGRAM.value, str(telegram)
    assert whatsapp is not None
    number = "".join(character for character in whatsapp if character.isdigit() or character == "+")
    if not number.startswith("+") or not 8 <= len(number) <= 16:
        console.print(
            "[red]✗ Geef het WhatsApp-nummer internationaal, bijvoorbeeld +31612345678.[/red]"
        )
        raise typer.Exit(2)
    return Channel.WHATSAPP.value, f"whatsapp:{number}"


@association_app.command("add")
def association_add(
    naam: str = typer.Option(..., "--naam", help="Voornaam van de medewerker."),
    telegram: int | None = typer.Option(None, "--telegram", help="Telegram-gebruikers-id."),
    whatsapp: str | None = typer.Option(None, "--whatsapp", help="WhatsApp-nummer, +31..."),
) -> None:
    """Geef iemand de rol vereniging: die mag dan /evenement gebruiken."""
    from storage.directory import upsert_member

    channel, external_id = _person(telegram, whatsapp)
    with open_database() as (_, db):
        with db.unit_of_work() as session:
            association = session.scalars(
                select(Initiative).where(Initiative.is_association.is_(True))
            ).first()
            if association is None:
                association = Initiative(name=ASSOCIATION_NAME, is_association=True)
                session.add(association)
                session.flush()
            member = upsert_member(session, association.id, channel, external_id, naam, None)
            member.role = Role.VERENIGING.value
        console.print(f"[green]✓ {naam} heeft nu de rol vereniging ({channel}).[/green]")


@initiative_app.command("add")
def initiative_add(
    naam: str = typer.Argument(..., help="Naam van het initiatief."),
    gemeente: str | None = typer.Option(None, "--gemeente"),
    provincie: str | None = typer.Option(None, "--provincie"),
) -> None:
    """Maak een initiatief aan (bijvoorbeeld een WhatsApp-buurtpreventie zonder Telegramgroep)."""
    from storage.directory import create_initiative
    from storage.whatsapp import join_code

    with open_database() as (_, db):
        with db.unit_of_work() as session:
            initiative = create_initiative(session, naam)
            initiative.municipality, initiative.province = gemeente, provincie
            code = join_code(session, initiative)
            name = initiative.name
        console.print(
            f"[green]✓ Initiatief “{name}” aangemaakt. Aanmeldcode voor WhatsApp: {code}[/green]"
        )


@initiative_app.command("set")
def initiative_set(
    naam: str = typer.Argument(..., help="Naam van het initiatief."),
    gemeente: str | None = typer.Option(None, "--gemeente"),
    provincie: str | None = typer.Option(None, "--provincie"),
    taal: str | None = typer.Option(None, "--taal", help="nl of en"),
) -> None:
    """Stel gemeente, provincie of taal van een initiatief in (voor evenementen per regio)."""
    if taal is not None and taal not in ("nl", "en"):
        console.print("[red]✗ Kies taal nl of en.[/red]")
        raise typer.Exit(2)
    with open_database() as (_, db):
        with db.unit_of_work() as session:
            initiative = find_initiative(session, naam)
            if gemeente is not None:
                initiative.municipality = gemeente.strip() or None
            if provincie is not None:
                initiative.province = provincie.strip() or None
            if taal is not None:
                initiative.language = taal
            summary = f"{initiative.municipality or '-'} · {initiative.province or '-'} · {initiative.language}"
        console.print(f"[green]✓ {naam}: {summary}[/green]")


@initiative_app.command("code")
def initiative_code(
    naam: str = typer.Argument(..., help="Naam van het initiatief."),
    nieuw: bool = typer.Option(False, "--nieuw", help="Maak een nieuwe code; de oude vervalt."),
) -> None:
    """Toon de aanmeldcode waarmee WhatsApp-leden zich aanmelden."""
    from storage.whatsapp import join_code

    with open_database() as (_, db):
        with db.unit_of_work() as session:
            code = join_code(session, find_initiative(session, naam), renew=nieuw)
        out.print(code)


@initiative_app.command("role")
def initiative_role(
    naam: str = typer.Argument(..., help="Naam van het initiatief."),
    rol: Role = typer.Argument(..., help="lid, coordinator, politie, handhaving of gemeente."),
    telegram: int | None = typer.Option(None, "--telegram", help="Telegram-gebruikers-id."),
    whatsapp: str | None = typer.Option(None, "--whatsapp", help="WhatsApp-nummer, +31..."),
    voornaam: str = typer.Option("", "--voornaam"),
) -> None:
    """Geef iemand een rol in een initiatief (bijvoorbeeld de eerste coördinator op WhatsApp)."""
    from storage.directory import upsert_member

    if rol == Role.VERENIGING:
        console.print("[red]✗ De rol vereniging geef je met `buurtbot vereniging add`.[/red]")
        raise typer.Exit(2)
    channel, external_id = _person(telegram, whatsapp)
    with open_database() as (_, db):
        with db.unit_of_work() as session:
            initiative = find_initiative(session, naam)
            member = upsert_member(session, initiative.id, channel, external_id, voornaam, None)
            member.role = rol.value
        console.print(f"[green]✓ Rol {rol.value} gegeven in {naam}.[/green]")


@events_app.command("add")
def events_add(
    titel: str = typer.Option(..., "--titel", help="Titel van het evenement."),
    wanneer: str = typer.Option(..., "--wanneer", help='Dag en tijd, bijv. "12 december 19:30".'),
    waar: str = typer.Option(..., "--waar", help="Plaats."),
    omschrijving: str = typer.Option("", "--omschrijving"),
    provincie: str | None = typer.Option(None, "--provincie", help="Alleen deze provincie."),
    gemeente: list[str] = typer.Option(
        [], "--gemeente", help="Alleen deze gemeente(n); herhaalbaar."
    ),
    min_niveau: int | None = typer.Option(
        None, "--min-niveau", min=1, max=5, help="Vanaf dit impactniveau."
    ),
    ja: bool = typer.Option(False, "--ja", help="Niet vragen: meteen versturen."),
) -> None:
    """Maak een regionaal evenement en verstuur de uitnodigingen."""
    from handlers.regional_events import (
        AudienceChoice,
        EventInputError,
        initiative_levels,
        new_event,
        send_invitations,
    )
    from handlers.schouw_parsing import parse_when
    from handlers.texts import text
    from storage.models import AudienceKind
    from storage.regional_events import audience_of

    if provincie and gemeente:
        console.print("[red]✗ Kies --provincie of --gemeente, niet allebei.[/red]")
        raise typer.Exit(2)
    audience = AudienceChoice(
        AudienceKind.PROVINCE
        if provincie
        else AudienceKind.MUNICIPALITIES
        if gemeente
        else AudienceKind.ALL,
        (provincie,) if provincie else tuple(gemeente),
        min_niveau,
    )
    with open_database() as (settings, db):
        now = datetime.now(UTC)
        starts_at = parse_when(wanneer, now.astimezone(settings.zone))
        if starts_at is None:
            console.print(
                f"[red]✗ Wanneer is “{wanneer}”? Geef een dag en een tijd, bijv. “12 december 19:30”.[/red]"
            )
            raise typer.Exit(2)
        with db.unit_of_work() as session:
            try:
                event = new_event(titel, starts_at, waar, omschrijving, audience, now)
            except EventInputError as error:
                console.print(f"[red]✗ {text(str(error))}[/red]")
                raise typer.Exit(2) from None
            session.add(event)
            session.flush()
            reach = audience_of(session, event, initiative_levels)
            event_id = event.id
        out.print(
            f"Evenement #{event_id}: {titel} · {starts_at:%d-%m-%Y %H:%M} · {waar}\n"
            f"Bereik: {reach.initiatives} initiatieven, {reach.groups} Telegramgroepen, "
            f"{reach.numbers} WhatsApp-leden."
        )
        if not ja and not typer.confirm("Uitnodigingen nu versturen?"):
            console.print(f"Bewaard als concept. Later versturen: /evenement verstuur {event_id}")
            return
        with db.unit_of_work() as session:
            stored = session.get(RegionalEvent, event_id)
            assert stored is not None
            count = send_invitations(session, stored, settings.zone, initiative_levels)
        console.print(
            f"[green]✓ {count} uitnodigingen klaargezet; de verwerker verstuurt ze binnen de limieten. "
            f"Volg het met `buurtbot events show {event_id} --volg`.[/green]"
        )


@events_app.command("list")
def events_list() -> None:
    """Toon de komende evenementen."""
    from storage.regional_events import progress, upcoming

    with open_database() as (settings, db):
        table = Table("#", "titel", "wanneer", "status", "verstuurd")
        with db.unit_of_work() as session:
            for event in upcoming(session, datetime.now(UTC)):
                sent = progress(session, event.id)
                table.add_row(
                    str(event.id),
                    event.title,
                    f"{event.starts_at.astimezone(settings.zone):%d-%m-%Y %H:%M}",
                    event.status,
                    f"{sent.sent}/{sent.total}",
                )
        out.print(table)


def _show(session: Session, event: RegionalEvent, zone_name: str) -> None:
    from zoneinfo import ZoneInfo

    from storage.regional_events import answers_per_initiative, progress

    sending = progress(session, event.id)
    out.print(
        f"[bold]#{event.id} {event.title}[/bold] · "
        f"{event.starts_at.astimezone(ZoneInfo(zone_name)):%d-%m-%Y %H:%M} · {event.location}\n"
        f"Status: {event.status} · uitnodigingen verstuurd {sent_text(sending.sent, sending.total)}"
        f", mislukt {sending.failed}"
    )
    table = Table("initiatief", "✅ ja", "🤔 misschien", "❌ nee")
    for row in answers_per_initiative(session, event.id):
        table.add_row(row.name, str(row.yes), str(row.maybe), str(row.no))
    out.print(table)


def sent_text(sent: int, total: int) -> str:
    return f"{sent} van {total}"


@events_app.command("show")
def events_show(
    event_id: int = typer.Argument(..., help="Nummer van het evenement."),
    volg: bool = typer.Option(False, "--volg", help="Volg het versturen tot alles weg is."),
) -> None:
    """Toon een evenement: voortgang van de uitnodigingen en de antwoorden per initiatief."""
    from storage.regional_events import progress

    with open_database() as (settings, db):
        with db.unit_of_work() as session:
            event = session.get(RegionalEvent, event_id)
            if event is None:
                console.print(f"[red]✗ Geen evenement met nummer {event_id}.[/red]")
                raise typer.Exit(1)
            _show(session, event, settings.timezone)
        if not volg:
            return
        with Progress(
            TextColumn("Uitnodigingen"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("versturen", total=None)
            while True:
                with db.unit_of_work() as session:
                    sending = progress(session, event_id)
                bar.update(task, total=sending.total, completed=sending.sent + sending.failed)
                if sending.done:
                    break
                time.sleep(1)
        console.print("[green]✓ Alle uitnodigingen zijn verwerkt.[/green]")
