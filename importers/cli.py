"""`buurtbot import whatsapp|sheet`: bring a group's history in, with a progress bar and a summary."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from handlers.texts import text
from importers.errors import UnreadableFile
from importers.pipeline import ImportSummary, import_sheet, import_whatsapp
from importers.sheets import ColumnChoice

import_app = typer.Typer(
    help="Geschiedenis inlezen: WhatsApp-exports en spreadsheets van coördinatoren.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

_Path = Annotated[Path, typer.Argument(help="Het bestand om in te lezen.", show_default=False)]
_Initiative = Annotated[
    str,
    typer.Option(
        "--initiative", help="Naam van het initiatief (wordt aangemaakt als het nog niet bestaat)."
    ),
]
_Json = Annotated[bool, typer.Option("--json", help="Samenvatting als één JSON-object op stdout.")]


def _column(role: str) -> Any:
    return typer.Option(f"--{role}-column", help=f"Kolom voor {_ROLE_HELP[role]} (naam of letter).")


_ROLE_HELP = {
    "date": "de datum",
    "time": "de tijd",
    "text": "de omschrijving",
    "category": "de categorie",
    "location": "de locatie",
    "sender": "de melder",
}


@contextmanager
def _progress(quiet: bool) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """Callbacks for the total and the advance of a progress bar on stderr."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=quiet,
    ) as bar:
        task = bar.add_task(text("import_progress"), total=None)
        yield (lambda total: bar.update(task, total=total)), (lambda n: bar.advance(task, n))


def _fail(message: str, code: int) -> typer.Exit:
    console.print(f"[red]✗ {message}[/red]", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _run(do_import: Callable[..., ImportSummary], **arguments: object) -> ImportSummary:
    from bot.cli import prepared_database, settings_or_exit

    if not str(arguments["initiative"]).strip():
        raise _fail(text("import_error_no_initiative"), 2)
    settings = settings_or_exit()
    db = prepared_database(settings)
    try:
        with _progress(quiet=not console.is_terminal) as (on_start, advance):
            return do_import(db, settings, on_start=on_start, progress=advance, **arguments)
    except UnreadableFile as error:
        raise _fail(text(error.key, **error.values), 1) from None
    finally:
        db.dispose()


def _when(moment: datetime | None) -> str:
    return moment.strftime("%d-%m-%Y %H:%M") if moment else "-"


def _report(summary: ImportSummary, as_json: bool, key: str, **extra: object) -> None:
    if as_json:
        typer.echo(json.dumps(summary.as_json(), ensure_ascii=False))
        return
    lines = []
    if summary.initiative_created:
        lines.append(text("import_initiative_created", initiative=summary.initiative))
    if summary.messages == 0 and summary.system_messages == 0:
        lines.append(text("import_summary_nothing", initiative=summary.initiative))
    else:
        lines.append(
            text(
                key,
                initiative=summary.initiative,
                messages=summary.messages,
                senders=summary.senders,
                first=_when(summary.first),
                last=_when(summary.last),
                new=summary.new_messages,
                present=summary.messages - summary.new_messages,
                signals=summary.signals,
                media=summary.media,
                deleted=summary.deleted,
                system=summary.system_messages,
                joined=summary.membership["joined"],
                added=summary.membership["added"],
                left=summary.membership["left"],
                removed=summary.membership["removed"],
                **extra,
            )
        )
    if summary.skipped:
        reasons = ", ".join(
            f"{count}× {text(f'import_skip_{reason}')}" for reason, count in summary.skipped.items()
        )
        lines.append(text("import_skipped", count=summary.skipped.total(), reasons=reasons))
    typer.echo("\n".join(lines))


@import_app.command("whatsapp")
def whatsapp(path: _Path, initiative: _Initiative, as_json: _Json = False) -> None:
    """Lees een WhatsApp-export in (het .txt- of .zip-bestand van "Chat exporteren")."""
    summary = _run(import_whatsapp, path=path, initiative=initiative)
    _report(summary, as_json, "import_summary_whatsapp")


@import_app.command("sheet")
def sheet(
    path: _Path,
    initiative: _Initiative,
    as_json: _Json = False,
    date_column: Annotated[str | None, _column("date")] = None,
    time_column: Annotated[str | None, _column("time")] = None,
    text_column: Annotated[str | None, _column("text")] = None,
    category_column: Annotated[str | None, _column("category")] = None,
    location_column: Annotated[str | None, _column("location")] = None,
    sender_column: Annotated[str | None, _column("sender")] = None,
    sheet_name: Annotated[
        str | None, typer.Option("--sheet", help="Tabblad (standaard het eerste).")
    ] = None,
) -> None:
    """Lees een spreadsheet met meldingen in (.xlsx of .csv)."""
    columns = ColumnChoice(
        date=date_column,
        time=time_column,
        text=text_column,
        category=category_column,
        location=location_column,
        sender=sender_column,
    )
    summary = _run(
        import_sheet,
        path=path,
        initiative=initiative,
        columns=columns,
        sheet_name=sheet_name,
    )
    recognised = ", ".join(
        f"{text(f'import_role_{role}')} = {header}" for role, header in summary.columns.items()
    )
    _report(summary, as_json, "import_summary_sheet", columns=recognised)
