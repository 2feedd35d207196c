"""``plenaria registrations import FILE [--dry-run]`` and ``plenaria registrations links``
(a CSV of everyone's personal link, for a mail merge)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
from collections.abc import Callable
from pathlib import Path

from server.backends import open_store
from server.registrations.tokens import RegistrationCodes
from server.settings import Settings
from sessions.registration_import import MAX_BYTES, RegistrationImportError, read_registrations
from sessions.registrations import RegistrationChanges

LINK_FIELDS = ["name", "email", "attends", "language", "organisation", "link"]


class RegistrationCommandError(Exception):
    """Ends the command with these lines on standard error and exit status 2."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    registrations = commands.add_parser("registrations", help="manage the registrations")
    sub = registrations.add_subparsers(dest="registrations_command", required=True)
    importer = sub.add_parser(
        "import", help="import a registration export (pretix, Indico or a spreadsheet, CSV)"
    )
    add_common(importer)
    importer.add_argument("file", help="the CSV export")
    importer.add_argument(
        "--dry-run", action="store_true", help="report what would change, store nothing"
    )
    links = sub.add_parser(
        "links",
        help="print a CSV of everyone's personal link (remote) or ticket link (in person), "
        "for a mail merge",
    )
    add_common(links)
    links.add_argument("--output", "-o", help="write the CSV to this file instead")


def report(changes: RegistrationChanges) -> list[str]:
    lines = [changes.summary()]
    lines += [f"  + {r.name} <{r.email}>" for r in changes.added[:50]]
    if len(changes.added) > 50:
        lines.append(f"  + … and {len(changes.added) - 50} more")
    lines += [f"  ~ {u.after.name} ({', '.join(u.fields)})" for u in changes.updated]
    lines += [f"  - {r.name} (removed, personal data deleted)" for r in changes.removed]
    lines += [f"  = {r.name} (kept: already checked in)" for r in changes.kept]
    return lines


async def import_command(settings: Settings, args: argparse.Namespace) -> list[str]:
    path = Path(args.file)
    try:
        data = await asyncio.to_thread(_read_export, path)
        imported = read_registrations(data)
    except RegistrationImportError as error:
        raise RegistrationCommandError(
            [
                f"{path}: nothing imported, the file has {len(error.problems)} problem(s):",
                *(f"  line {line}: {message}" for line, message in error.problems),
            ]
        ) from None
    store = await open_store(settings.store)
    try:
        changes = await store.import_registrations(imported.registrations, dry_run=args.dry_run)
        if not args.dry_run:
            for gone in changes.removed:
                await store.forget_attendance(gone.participant_id)
    finally:
        await store.close()
    verb = "would change" if args.dry_run else "imported"
    lines = [f"{path}: {verb} — {len(imported.registrations)} registrations", *report(changes)]
    if imported.skipped:
        lines.append(f"  left out as cancelled or withdrawn: lines {imported.skipped}")
    if imported.attendance_assumed:
        lines.append("  no in person / remote column: everyone counts as coming in person")
    return lines


def _read_export(path: Path) -> bytes:
    with path.open("rb") as export:
        return export.read(MAX_BYTES + 1)


def spreadsheet_cell(value: str) -> str:
    """Never a formula to a spreadsheet (a name that starts with "=" stays text)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def links_command(settings: Settings, args: argparse.Namespace, base: str) -> list[str]:
    store = await open_store(settings.store)
    try:
        everyone = await store.list_registrations()
    finally:
        await store.close()
    codes = RegistrationCodes(settings.secret_key)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LINK_FIELDS, lineterminator="\n")
    writer.writeheader()
    for registration in everyone:
        row = {
            "name": registration.name,
            "email": registration.email,
            "attends": registration.attends,
            "language": registration.language,
            "organisation": registration.organisation,
            "link": f"{base}/r/{codes.link_token(registration.participant_id)}",
        }
        writer.writerow({k: spreadsheet_cell(v) for k, v in row.items()})
    if args.output:
        await asyncio.to_thread(Path(args.output).write_text, buffer.getvalue(), "utf-8")
        return [f"{len(everyone)} links written to {args.output}"]
    return [buffer.getvalue().rstrip("\n")]
