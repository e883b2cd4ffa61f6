"""Command line for the classifier: `buurtbot nlp train|evaluate` and `buurtbot classify`.

spaCy is imported inside the commands, so `buurtbot --help` and other subcommands start fast.
"""

from __future__ import annotations

import json
import os
import sys
from io import BufferedReader
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.table import Table

from nlp.paths import DEV_DIR, MODEL_DIR, TRAIN_DIR

if TYPE_CHECKING:
    from nlp.evaluation import Evaluation, TaskReport

nlp_app = typer.Typer(
    name="nlp",
    help="Berichtclassificatie: het model trainen en evalueren.",
    no_args_is_help=True,
    add_completion=False,
)

_ModelOption = Annotated[
    Path, typer.Option("--model", help="Map met het model (standaard het meegeleverde model).")
]


@nlp_app.command("train")
def train(
    data: Annotated[
        Path, typer.Option("--data", help="Map met de trainingsberichten (*.jsonl).")
    ] = TRAIN_DIR,
    model: Annotated[
        Path, typer.Option("--model", help="Map waarin het getrainde model komt.")
    ] = MODEL_DIR,
    quiet: Annotated[bool, typer.Option("--quiet", help="Geen voortgang tonen.")] = False,
) -> None:
    """Train het model opnieuw op de trainingsberichten (vaste seed: zelfde data, zelfde model)."""
    from nlp.corpus import CorpusError
    from nlp.training import train_model

    console = Console(stderr=True)
    try:
        result = train_model(data, model, report=None if quiet else console.print)
    except CorpusError as error:
        console.print(f"[red]Fout in de trainingsdata:[/red] {error}")
        raise typer.Exit(1) from error
    console.print(
        f"Model [bold]{result.version}[/bold] getraind op {result.messages} berichten, "
        f"opgeslagen in {result.model_dir} (urgentiedrempel {result.urgent_threshold:.3f})."
    )


@nlp_app.command("evaluate")
def evaluate(
    data: Annotated[
        Path, typer.Option("--data", help="Map met de evaluatieberichten (*.jsonl).")
    ] = DEV_DIR,
    model: _ModelOption = MODEL_DIR,
    as_json: Annotated[
        bool, typer.Option("--json", help="Uitvoer als JSON, voor scripts.")
    ] = False,
) -> None:
    """Meet precisie, recall en F1 van het model op de evaluatieberichten."""
    from nlp.classifier import Classifier, ModelError
    from nlp.corpus import CorpusError, read_corpus
    from nlp.evaluation import evaluate as run_evaluation

    try:
        classifier = Classifier.load(model)
        messages = read_corpus(data)
    except (ModelError, CorpusError) as error:
        Console(stderr=True).print(f"[red]Evaluatie niet mogelijk:[/red] {error}")
        raise typer.Exit(1) from error
    result = run_evaluation(classifier, messages)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        _print_evaluation(Console(), result)


@nlp_app.command("crossval")
def crossval(
    data: Annotated[
        Path, typer.Option("--data", help="Map met de trainingsberichten (*.jsonl).")
    ] = TRAIN_DIR,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Aantal folds.")] = 5,
    per_file: Annotated[
        bool,
        typer.Option(
            "--per-bestand",
            help="Folds van hele bestanden: elk bericht beoordeeld door een model dat niets "
            "uit zijn bestand (zijn schrijver, zijn stemmen) heeft gezien.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Geen voortgang tonen.")] = False,
) -> None:
    """Kruisvalidatie op de trainingsberichten: kies instellingen zonder naar dev te kijken."""
    from nlp.corpus import CorpusError, read_corpus
    from nlp.crossval import cross_validate
    from nlp.training import TrainConfig

    errors = Console(stderr=True)
    try:
        messages = read_corpus(data)
    except CorpusError as error:
        errors.print(f"[red]Fout in de trainingsdata:[/red] {error}")
        raise typer.Exit(1) from error
    report = None if quiet else errors.print
    try:
        result = cross_validate(messages, TrainConfig(), folds, report, per_file)
    except ValueError as error:
        errors.print(f"[red]Kan geen folds maken:[/red] {error}")
        raise typer.Exit(1) from error
    console = Console()
    how = "per bestand" if per_file else "gestratificeerd"
    console.print(f"{result.folds}-voudige kruisvalidatie ({how}) op {result.messages} berichten")
    console.print(_task_table("Soort (kind)", result.kind))
    console.print(_task_table("Categorie (bij signaal en terugkoppeling)", result.category))
    u = result.urgent
    console.print(
        f"macro-F1 kind {result.kind.macro_f1:.4f}, category {result.category.macro_f1:.4f}; "
        f"urgent (drempel {result.urgent_threshold:.3f}) precision {u.precision:.3f}, "
        f"recall {u.recall:.3f} ({u.true_positives} terecht, {u.false_positives} onterecht, "
        f"{u.false_negatives} gemist)"
    )
    console.print(_confusion_table("Verwarringsmatrix soort", result.kind))
    console.print(_confusion_table("Verwarringsmatrix categorie", result.category))


def _task_table(title: str, report: TaskReport) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("label")
    for heading in ("precision", "recall", "F1", "aantal"):
        table.add_column(heading, justify="right")
    for score in report.per_label:
        table.add_row(
            score.label,
            f"{score.precision:.3f}",
            f"{score.recall:.3f}",
            f"{score.f1:.3f}",
            str(score.support),
        )
    table.add_section()
    table.add_row(
        "[bold]macro-F1[/bold]", "", "", f"[bold]{report.macro_f1:.3f}[/bold]", str(report.messages)
    )
    return table


def _confusion_table(title: str, report: TaskReport) -> Table:
    # Columns carry the first four letters of the label (unique in both label sets), so
    # the category matrix fits an 80-column terminal.
    table = Table(
        title=f"{title} (rij: echt, kolom: voorspeld)",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    table.add_column("", no_wrap=True)
    for label in report.labels:
        table.add_column(label[:4], justify="right", no_wrap=True, min_width=4)
    for label, row in zip(report.labels, report.confusion, strict=True):
        table.add_row(label, *(str(count) if count else "." for count in row))
    return table


def _print_evaluation(console: Console, result: Evaluation) -> None:
    console.print(f"Model {result.model_version}, {result.messages} berichten")
    console.print(_task_table("Soort (kind)", result.kind))
    console.print(f"macro-F1 kind: {result.kind.macro_f1:.3f}")
    console.print(_task_table("Categorie (bij signaal en terugkoppeling)", result.category))
    console.print(f"macro-F1 category: {result.category.macro_f1:.3f}")
    urgent = Table(title="Urgent", title_justify="left")
    for heading in ("precision", "recall", "F1", "terecht", "onterecht", "gemist"):
        urgent.add_column(heading, justify="right")
    u = result.urgent
    urgent.add_row(
        f"{u.precision:.3f}",
        f"{u.recall:.3f}",
        f"{u.f1:.3f}",
        str(u.true_positives),
        str(u.false_positives),
        str(u.false_negatives),
    )
    console.print(urgent)
    console.print(_confusion_table("Verwarringsmatrix soort", result.kind))
    console.print(_confusion_table("Verwarringsmatrix categorie", result.category))
    r = result.review
    console.print(
        f"Ter controle gemarkeerd: {r.marked} van {result.messages} "
        f"(soort juist: {r.kind_accuracy_marked:.3f} gemarkeerd, "
        f"{r.kind_accuracy_unmarked:.3f} niet gemarkeerd)"
    )


def classify_command(
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Map met het model (standaard het meegeleverde model)."),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Berichten per batch.")
    ] = 512,
) -> None:
    """Label berichten van stdin: per invoerregel één JSON-regel, in dezelfde volgorde.

    Invoer: JSON-regels {"id": ..., "text": ...} of gewone tekstregels (id wordt dan het
    regelnummer). Uitvoer: {"id", "kind", "category", "urgent", "confidence"}, of
    {"id", "error"} voor een lege, ongeldige of te lange regel.
    """
    from nlp.classifier import Classifier, ModelError
    from nlp.stream import classify_stream

    try:
        classifier = Classifier.load(model)
    except ModelError as error:
        Console(stderr=True).print(f"[red]Model niet te laden:[/red] {error}")
        raise typer.Exit(1) from error
    try:
        source = cast(BufferedReader, sys.stdin.buffer)
        classify_stream(source, sys.stdout.buffer, classifier, batch_size)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as other Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(1) from None
