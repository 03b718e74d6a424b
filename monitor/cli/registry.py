"""Where each command lives, so that `monitor CMD` imports only CMD's module.

``monitor --help`` lists every command with the first sentence of its help, and
``monitor status`` needs the status command alone: neither should pay for importing every
command module (and what those import). Each command is therefore named here with the
module that defines it (``@cli.command()`` in ``monitor.cli.<module>``) and its summary,
the first sentence of its help, which ``--help`` shows without importing the module.
``tests/test_cli_lazy.py`` fails when a command is missing here, sits in another module,
or its summary differs from its help.

Adding a command: define it in a ``*_cmds`` module as usual, add a line here.
"""

from __future__ import annotations

from typing import NamedTuple


class LazyCommand(NamedTuple):
    module: str  # in monitor.cli
    summary: str  # the first sentence of the command's help, as `monitor --help` shows it


COMMANDS: dict[str, LazyCommand] = {
    "changes": LazyCommand(
        "changes_cmds",
        "The change log, newest first (by the date of the first item that reported it).",
    ),
    "check-config": LazyCommand("source_cmds", "Validate the configuration and print a summary."),
    "confirm": LazyCommand(
        "review_cmds", "Mark changes as confirmed (checked: a real region, chip or model)."
    ),
    "dismiss": LazyCommand(
        "review_cmds",
        "Mark changes as false positives: their fact never alerts again, unsent alerts for it "
        "are cancelled, and the log shows them struck out (`monitor changes --all`).",
    ),
    "doctor": LazyCommand(
        "doctor_cmds",
        "Check this installation: the database file (SQLite's PRAGMA quick_check), its schema "
        "revision, the daemon lock (and whether its database takes writes), the configuration, "
        "the alert channels, whether the extractor runs compiled (mypyc) or as plain Python, "
        "and whether its region linker's weights are there.",
    ),
    "eval": LazyCommand(
        "extract_cmds",
        "Score extraction against the gold facts of labelled JSONL corpora (FACTS.md).",
    ),
    "extract": LazyCommand(
        "extract_cmds",
        "Read items as JSON lines (id, title, text; lang optional) and print their facts.",
    ),
    "ingest": LazyCommand(
        "changes_cmds",
        "Replay JSONL items (FACTS.md item format) through the same path as fetched items: "
        "dedupe, extract, diff, change log, outbox, delivery, in `published` order.",
    ),
    "init": LazyCommand(
        "store_cmds", "Create or upgrade the database and load the baseline facts."
    ),
    "kinds": LazyCommand(
        "source_cmds",
        "Describe the source kinds and their keys in sources.yaml (or just KIND).",
    ),
    "notify": LazyCommand(
        "changes_cmds", "Send the alerts that are due now (or test the channels)."
    ),
    "once": LazyCommand(
        "daemon_cmds",
        "One pass over the due sources: fetch, store new items, process them, send alerts.",
    ),
    "prune": LazyCommand(
        "doctor_cmds",
        "Apply the `retention:` settings now (the daemon does it every `retention.every`): "
        "empty the text of items that reported no fact after `drop_text_after`, delete them "
        "after `delete_after` (their dedupe keys stay, so they do not come back as news), drop "
        "those keys after `forget_keys_after`, and give SQLite's free pages back to the disk.",
    ),
    "report": LazyCommand(
        "changes_cmds",
        "Write a self-contained HTML report: per company, the timeline of changes with their "
        "evidence and the countries, chips and models known (baseline vs discovered).",
    ),
    "run": LazyCommand(
        "daemon_cmds",
        "The daemon: poll every source on its own schedule, process and alert, until stopped.",
    ),
    "seen": LazyCommand("review_cmds", "Mark changes as seen (read, not yet judged)."),
    "serve": LazyCommand(
        "web_cmds",
        "The web desk: the change log with filters and triage, each change with its evidence, "
        "company footprints on a world map, source health, an Atom feed and a JSON API.",
    ),
    "show": LazyCommand("changes_cmds", "One change with all its evidence."),
    "status": LazyCommand(
        "status_cmds",
        "Health of every source: last success, last error, consecutive failures, next due, "
        "items stored.",
    ),
    "try": LazyCommand(
        "daemon_cmds",
        "Fetch and parse one source, a configured NAME or a bare URL, and print its items.",
    ),
    "unread": LazyCommand("review_cmds", "Mark changes as unread again (to review later)."),
    "worker": LazyCommand(
        "worker_cmds", "Work the job queue on PostgreSQL beside any number of other workers."
    ),
}
