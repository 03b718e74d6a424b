"""Commands: ``extract`` (facts from JSON-lines items) and ``eval`` (score a labelled corpus)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

import click

from monitor.app import App
from monitor.cli.main import cli

if TYPE_CHECKING:  # the extractor is imported by the commands that use it, not at start-up
    from monitor.extract.evaluate import Counts, Report
    from monitor.types import Fact


def _lines(handle: TextIO) -> Iterator[str]:
    try:
        yield from handle
    except UnicodeDecodeError as exc:
        click.echo(f"error: input is not UTF-8 text ({exc.reason})", err=True)


@cli.command("extract")
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-", metavar="[FILE|-]")
@click.pass_obj
def extract_cmd(app: App, file: TextIO) -> None:
    """Read items as JSON lines (id, title, text; lang optional) and print their facts.

    One JSON line out per item, in order: {"id": ..., "facts": [{"entity", "kind",
    "value", "status", "evidence": {"sentence", "start", "end", "field"}}]}. Uses the
    watchlist of --config (the packaged default when that file does not exist). An
    unreadable line gives one error line on stderr and {"id": ..., "facts": []}.

    \b
    Example:
      echo '{"id": "1", "title": "Alibaba Cloud opens a data centre in Mexico"}' \\
        | monitor extract -
    """
    from monitor.extract.corpus import iter_lines_as_items
    from monitor.views import fact_json

    extractor = app.extractor  # on the configured watchlist, or the packaged default
    name = "<stdin>" if file is sys.stdin or file.name == "<stdin>" else file.name
    for _lineno, item, _gold, error, raw_id in iter_lines_as_items(_lines(file), name):
        if item is None:
            click.echo(error, err=True)
            item_id = raw_id if isinstance(raw_id, str | int) else None
            click.echo(json.dumps({"id": item_id, "facts": []}, ensure_ascii=False))
            continue
        facts = [fact_json(f) for f in extractor.extract(item)]
        click.echo(json.dumps({"id": item.extra.get("id"), "facts": facts}, ensure_ascii=False))


def _row(label: str, counts: Counts) -> str:
    return (
        f"{label:<10} {counts.tp:>5} {counts.fp:>5} {counts.fn:>5}  "
        f"{counts.precision:>9.3f} {counts.recall:>6.3f} {counts.f1:>6.3f} "
        f"{counts.status_accuracy:>7.3f}"
    )


def format_report(report: Report) -> str:
    header = (
        f"{'':<10} {'tp':>5} {'fp':>5} {'fn':>5}  "
        f"{'precision':>9} {'recall':>6} {'f1':>6} {'status':>7}"
    )
    lines = [f"items: {report.items}", header, _row("overall", report.overall)]
    lines += [_row(lang, c) for lang, c in sorted(report.by_lang.items())]
    lines += [_row(kind, c) for kind, c in sorted(report.by_kind.items())]
    lines.append(
        f"status on first reports: {report.first_report_status_accuracy:.3f}"
        f" ({report.first_status_right} of {report.first_reports} matched first reports)"
    )
    return "\n".join(lines)


def format_error_classes(report: Report) -> str:
    """Errors counted by class (kind x language x cause), the largest first."""
    lines = ["\nerrors by class (kind, language, cause):"]
    for (kind, lang, cause), count in report.error_classes():
        lines.append(f"{count:>5}  {kind:<7} {lang:<8} {cause}")
    return "\n".join(lines)


@cli.command("eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--errors",
    "n_errors",
    type=int,
    default=0,
    metavar="N",
    help="Count errors by class (kind x language x cause), then list up to N of them "
    "(false positives, misses, wrong statuses) with sentences.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as one JSON object.")
@click.pass_obj
def eval_cmd(app: App, files: tuple[str, ...], n_errors: int, as_json: bool) -> None:
    """Score extraction against the gold facts of labelled JSONL corpora (FACTS.md).

    Micro precision, recall and F1 over (entity, kind, key(value)) triples per item,
    status accuracy over matched triples, and the same by language and by kind. Status
    is also scored on the first report of each fact alone (items in published order):
    a first report wrongly read as live hides the later "now live" alert.

    \b
    Example:
      monitor eval ../shared/corpora/dev-en.jsonl ../shared/corpora/dev-multi.jsonl --errors 20
    """
    from monitor.extract.corpus import read_items_jsonl
    from monitor.extract.evaluate import evaluate
    from monitor.views import fact_json

    extractor = app.extractor

    def labelled() -> Iterator[tuple[Any, list[Fact] | None]]:
        for path in files:
            for item, gold, _story in read_items_jsonl(path, lambda m: click.echo(m, err=True)):
                yield item, gold

    report = evaluate(labelled(), extractor.extract)
    errors = report.errors[: max(n_errors, 0)]
    if as_json:
        data = report.as_dict()
        if n_errors:
            data["error_classes"] = [
                {"kind": kind, "lang": lang, "cause": cause, "count": count}
                for (kind, lang, cause), count in report.error_classes()
            ]
            data["errors"] = [
                {
                    "id": e.item_id,
                    "error": e.error,
                    "cause": e.cause,
                    "fact": {k: v for k, v in fact_json(e.fact).items() if k != "evidence"},
                    "expected_status": e.expected_status,
                    "sentence": e.sentence,
                }
                for e in errors
            ]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(format_report(report))
    if n_errors:
        click.echo(format_error_classes(report))
    for e in errors:
        f = e.fact
        status = f" (gold {e.expected_status})" if e.expected_status else ""
        click.echo(f"\n{e.item_id}  {e.error}: {f.entity}/{f.kind}/{f.value} {f.status}{status}")
        click.echo(f"  {e.sentence}")
