"""Reading a registration export: a pretix order or attendee list, an Indico registrant list,
or a plain spreadsheet, as CSV.

Columns are found by their header, whatever its case, spacing, punctuation or accents, in
English and in a few other languages' usual spellings (:data:`COLUMNS`); other columns
(pretix's and Indico's questions, prices, dates) are ignored. The delimiter is "," or ";"
(or a tab), whichever the header reads best with; the text is UTF-8 with or without a byte
order mark (or UTF-16 with one, as spreadsheets save "Unicode text").

A file is taken whole or not at all: every bad row is reported with its line number (the
line its record starts on, counting the header as line 1) in one
:class:`RegistrationImportError`, and then nothing of it is used.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from sessions.registrations import Attends, Registration

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
MAX_PROBLEMS = 200
"""Problems reported at most (the last one says how many more there were)."""
MAX_FIELD = 200
MAX_KEY = 128
MAX_EMAIL = 254


class RegistrationImportError(ValueError):
    """The export cannot be imported; ``problems`` lists each (line, message)."""

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        self.problems = list(problems)
        first = "; ".join(f"line {line}: {message}" for line, message in self.problems[:3])
        more = len(self.problems) - 3
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))


def normalised(text: str) -> str:
    """A header or value as compared: case-folded, accents and punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def _names(*spellings: str) -> frozenset[str]:
    return frozenset(normalised(spelling) for spelling in spellings)


COLUMNS: dict[str, frozenset[str]] = {
    "key": _names(
        "id",
        "registration id",
        "registrant id",
        "participant id",
        "attendee id",
        "ticket id",
        "badge id",
        "reference",
        "identifiant",
        "kennung",
        "identificativo",
        "identificador",
        "идентификатор",
    ),
    "order": _names("order code", "order", "bestellnummer", "code de commande"),
    "position": _names("position id", "order position id", "positionid", "position"),
    "name": _names(
        "name",
        "full name",
        "attendee name",
        "participant name",
        "registrant name",
        "nom complet",
        "vollständiger name",
        "nome completo",
        "nombre completo",
        "фио",
        "полное имя",
        "имя и фамилия",
    ),
    "given": _names(
        "first name",
        "given name",
        "forename",
        "attendee name: given name",
        "vorname",
        "prénom",
        "nome",
        "nombre",
        "имя",
    ),
    "family": _names(
        "last name",
        "family name",
        "surname",
        "attendee name: family name",
        "nachname",
        "nom de famille",
        "nom",
        "cognome",
        "apellido",
        "apellidos",
        "фамилия",
    ),
    "attendee_email": _names("attendee email", "attendee e-mail", "attendee email address"),
    "email": _names(
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "mail",
        "courriel",
        "adresse e-mail",
        "adresse électronique",
        "e-mail-adresse",
        "posta elettronica",
        "indirizzo email",
        "correo",
        "correo electrónico",
        "электронная почта",
        "эл. почта",
    ),
    "organisation": _names(
        "organisation",
        "organization",
        "organisation name",
        "company",
        "affiliation",
        "institution",
        "delegation",
        "entity",
        "organisme",
        "unternehmen",
        "firma",
        "organizzazione",
        "ente",
        "affiliazione",
        "organización",
        "organizacion",
        "empresa",
        "institución",
        "организация",
        "делегация",
    ),
    "delegation_type": _names(
        "delegation type",
        "participant type",
        "participant category",
        "category",
        "registration type",
        "attendee type",
        "type",
        "type de délégation",
        "catégorie",
        "type de participant",
        "delegationstyp",
        "delegationsart",
        "kategorie",
        "teilnehmertyp",
        "tipo di delegazione",
        "categoria",
        "tipo di partecipante",
        "tipo de delegación",
        "categoría",
        "tipo de participante",
        "тип делегации",
        "категория",
        "product",
    ),
    "country": _names(
        "country",
        "country code",
        "country/region",
        "nation",
        "pays",
        "code pays",
        "land",
        "staat",
        "paese",
        "nazione",
        "país",
        "страна",
    ),
    "attends": _names(
        "attends",
        "attendance",
        "attendance mode",
        "attendance type",
        "participation",
        "participation mode",
        "mode of participation",
        "in person or remote",
        "in person / remote",
        "on-site or online",
        "mode",
        "format",
        "mode de participation",
        "présence",
        "teilnahme",
        "teilnahmeart",
        "teilnahmeform",
        "partecipazione",
        "modalità di partecipazione",
        "asistencia",
        "modalidad",
        "modalidad de participación",
        "participación",
        "формат участия",
        "участие",
    ),
    "language": _names(
        "language",
        "lang",
        "preferred language",
        "working language",
        "langue",
        "langue de travail",
        "sprache",
        "arbeitssprache",
        "lingua",
        "idioma",
        "язык",
    ),
    "status": _names(
        "status",
        "order status",
        "registration state",
        "registration status",
        "state",
        "statut",
        "état",
        "stato",
        "estado",
        "статус",
    ),
}
"""Each field and the headers that name it (compared :func:`normalised`)."""

IN_PERSON = _names(
    "in person",
    "in-person",
    "on-site",
    "onsite",
    "on site",
    "at the venue",
    "venue",
    "physical",
    "présentiel",
    "en présentiel",
    "presentiel",
    "sur place",
    "vor ort",
    "präsenz",
    "in präsenz",
    "präsenzteilnahme",
    "in presenza",
    "presenza",
    "presenziale",
    "presencial",
    "en persona",
    "очно",
    "лично",
    "очное участие",
)
REMOTE = _names(
    "remote",
    "remotely",
    "online",
    "on-line",
    "virtual",
    "virtually",
    "digital",
    "distanciel",
    "en distanciel",
    "à distance",
    "en ligne",
    "virtuel",
    "fernteilnahme",
    "virtuell",
    "da remoto",
    "a distanza",
    "remoto",
    "in remoto",
    "en línea",
    "en linea",
    "a distancia",
    "virtualmente",
    "онлайн",
    "дистанционно",
    "удалённо",
    "удаленно",
    "заочно",
)
CANCELLED = _names(
    "canceled",
    "cancelled",
    "withdrawn",
    "rejected",
    "refunded",
    "expired",
    "c",
    "n/a",
    "storniert",
    "annulé",
    "annule",
    "annullato",
    "cancelado",
    "отменено",
)
"""Status values of people no longer coming: their rows are skipped, not imported."""

COUNTRY_ALIASES = {
    normalised(name): code
    for name, code in {
        "USA": "US",
        "U.S.A.": "US",
        "United States of America": "US",
        "UK": "GB",
        "Great Britain": "GB",
        "Britain": "GB",
        "England": "GB",
        "Turkey": "TR",
        "Czech Republic": "CZ",
        "Russian Federation": "RU",
        "Holy See": "VA",
        "Vatican": "VA",
        "Republic of Korea": "KR",
        "Korea": "KR",
        "Ivory Coast": "CI",
        "Swaziland": "SZ",
        "Macedonia": "MK",
        "Burma": "MM",
        "Cape Verde": "CV",
        "Moldova, Republic of": "MD",
        "Iran, Islamic Republic of": "IR",
    }.items()
}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


@dataclass(frozen=True, slots=True)
class ImportedFile:
    registrations: tuple[Registration, ...]
    """Everyone the export lists, in its order; ``participant_id`` empty (the store gives
    it)."""
    skipped: tuple[int, ...] = ()
    """Lines of people whose status says they are not coming (cancelled, withdrawn)."""
    attendance_assumed: bool = False
    """The export has no in-person/remote column: everyone was taken to come in person."""


@functools.cache
def _territories() -> Mapping[str, str]:
    """Country names in the interface's languages (and a few usual others) → alpha-2."""
    from babel import Locale

    names: dict[str, str] = {}
    for language in ("es", "it", "ru", "de", "fr", "en"):  # English last: it wins
        for code, name in Locale(language).territories.items():
            if len(code) == 2 and code.isalpha() and code != "ZZ":
                names[normalised(name)] = code
    names.update(COUNTRY_ALIASES)
    return names


@functools.cache
def _language_codes() -> Mapping[str, str]:
    """ISO 639-1 codes, and the English names of those languages, → the code."""
    from babel import Locale

    languages = {str(code): str(name) for code, name in Locale("en").languages.items()}
    codes = {code: code for code in languages if len(code) == 2 and code.isalpha()}
    names = {normalised(languages[code]): code for code in codes}
    return {**names, **codes}


def country_code(raw: str) -> str | None:
    """An ISO 3166-1 alpha-2 code from a code or a country's name; None if unknown."""
    text = raw.strip()
    if not text:
        return ""
    territories = _territories()
    if len(text) == 2 and text.isalpha() and text.upper() in territories.values():
        return text.upper()
    return territories.get(normalised(text))


def language_code(raw: str) -> str | None:
    """An ISO 639-1 code from a code ("fr", "FR", "fr-CH") or an English name."""
    text = raw.strip()
    if not text:
        return ""
    codes = _language_codes()
    primary = re.split(r"[-_]", text, maxsplit=1)[0].casefold()
    if len(primary) == 2 and primary in codes:
        return primary
    return codes.get(normalised(text))


def attendance(raw: str) -> Attends | None:
    value = normalised(raw)
    if value in IN_PERSON:
        return "in_person"
    if value in REMOTE:
        return "remote"
    return None


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise RegistrationImportError(
            [(1, f"the file has {len(data)} bytes; an export has at most {MAX_BYTES}")]
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise RegistrationImportError([(1, "the file is not valid UTF-16 text")]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RegistrationImportError(
            [(line, "the file is not UTF-8 text: save or export it as CSV UTF-8")]
        ) from None


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on (a quoted cell may span several lines)."""
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise RegistrationImportError([(start, f"the CSV cannot be read: {error}")]) from None
        yield start, row
        start = reader.line_num + 1


def _header_score(header: Sequence[str]) -> int:
    known = set().union(*COLUMNS.values())
    return sum(normalised(cell) in known for cell in header)


def _pick_delimiter(text: str) -> str:
    first = next(iter(text.splitlines()), "")
    scores = {}
    for delimiter in (",", ";", "\t"):
        try:
            header = next(csv.reader([first], delimiter=delimiter))
        except (csv.Error, StopIteration):
            continue
        scores[delimiter] = (_header_score(header), len(header))
    return max(scores, key=lambda d: scores[d], default=",")


def _columns(header: Sequence[str]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Field → column index (the first column naming it), and header problems."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = normalised(cell)
        for field, spellings in COLUMNS.items():
            if name in spellings and field not in found:
                found[field] = index
                break
    if "attends" not in found:  # a question column: "How will you attend?", "Online or on-site"
        guesses = [
            i
            for i, cell in enumerate(header)
            if re.search(r"inperson|onsite|remote|online|attend|particip", normalised(cell))
            and i not in found.values()
        ]
        if len(guesses) == 1:
            found["attends"] = guesses[0]
    problems = []
    if "name" not in found and "given" not in found and "family" not in found:
        problems.append((1, "no column holds the name (name, or first name and last name)"))
    if "email" not in found and "attendee_email" not in found:
        problems.append((1, "no column holds the e-mail address (email, e-mail)"))
    return found, problems


def _clean(value: str, label: str, limit: int = MAX_FIELD) -> tuple[str, str | None]:
    text = " ".join(value.split())
    if CONTROL.search(value):
        return text, f"the {label} contains control characters"
    if len(text) > limit:
        return text, f"the {label} is longer than {limit} characters"
    return text, None


def read_registrations(data: bytes) -> ImportedFile:
    """The registrations an export lists, or :class:`RegistrationImportError` with every
    problem found, each with its line."""
    text = decode(data)
    if not text.strip():
        raise RegistrationImportError([(1, "the file is empty")])
    records = _records(text, _pick_delimiter(text))
    _, header = next(records)
    columns, problems = _columns(header)
    if problems:
        raise RegistrationImportError(problems)
    registrations: list[Registration] = []
    skipped: list[int] = []
    first_line: dict[str, int] = {}
    rows = 0
    for line, row in records:
        if not any(cell.strip() for cell in row):
            continue
        rows += 1
        if rows > MAX_ROWS:
            problems.append((line, f"an export lists at most {MAX_ROWS} people"))
            break
        row_problems: list[str] = []
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            row_problems.append(
                f"the row has {len(row)} cells but the header names {len(header)} columns"
            )
        cell = _Row(row, columns)
        if cell("status").strip() and normalised(cell("status")) in CANCELLED:
            skipped.append(line)
            continue
        registration, row_problems = _registration(cell, row_problems)
        if registration is not None:
            earlier = first_line.get(registration.key)
            if earlier is not None:
                row_problems.append(f"the same registration ({registration.key}) as line {earlier}")
            else:
                first_line[registration.key] = line
        problems += [(line, message) for message in row_problems]
        if registration is not None and not row_problems:
            registrations.append(registration)
        if len(problems) > MAX_PROBLEMS:
            break
    if problems:
        if len(problems) > MAX_PROBLEMS:
            last = problems[MAX_PROBLEMS - 1][0]
            problems = [
                *problems[: MAX_PROBLEMS - 1],
                (last, "too many problems: the rest of the file was not read"),
            ]
        raise RegistrationImportError(problems)
    if not registrations:
        raise RegistrationImportError([(1, "the file lists nobody")])
    return ImportedFile(tuple(registrations), tuple(skipped), "attends" not in columns)


class _Row:
    """One record's cells by field."""

    def __init__(self, cells: list[str], columns: Mapping[str, int]) -> None:
        self._cells = cells
        self._columns = columns

    def __call__(self, field: str) -> str:
        index = self._columns.get(field)
        return self._cells[index] if index is not None and index < len(self._cells) else ""

    def has(self, field: str) -> bool:
        return field in self._columns


def _registration(cell: _Row, problems: list[str]) -> tuple[Registration | None, list[str]]:
    def field(name: str, label: str, limit: int = MAX_FIELD) -> str:
        value, problem = _clean(cell(name), label, limit)
        if problem:
            problems.append(problem)
        return value

    if cell("given").strip() or cell("family").strip():
        given = field("given", "first name")
        family = field("family", "last name")
        name = " ".join(part for part in (given, family) if part) or field("name", "name")
    else:
        name = field("name", "name")
    if not name:
        problems.append("the name is empty")
    email = field("attendee_email", "e-mail address", MAX_EMAIL) or field(
        "email", "e-mail address", MAX_EMAIL
    )
    if not email:
        problems.append("the e-mail address is empty")
    elif not EMAIL.match(email):
        problems.append(f"{email!r} is not an e-mail address")
    order = field("order", "order code", MAX_KEY)
    position = field("position", "position id", MAX_KEY)
    key = field("key", "id", MAX_KEY)
    if order:
        key = f"{order}-{position}" if position else order
    elif not key:
        key = email.casefold()
    attends_text = cell("attends")
    attends: Attends | None = "in_person"
    if attends_text.strip() or cell.has("attends"):
        attends = attendance(attends_text)
        if attends is None:
            shown = " ".join(attends_text.split())[:40]
            problems.append(
                f"{shown!r} does not say in person or remote"
                if shown
                else "it does not say whether they come in person or remotely"
            )
    raw_country = cell("country")
    country = country_code(raw_country[:80])
    if country is None:
        problems.append(f"{' '.join(raw_country.split())[:40]!r} is not a country")
    raw_language = cell("language")
    language = language_code(raw_language[:40])
    if language is None:
        problems.append(
            f"{' '.join(raw_language.split())[:40]!r} is not a language (an ISO 639-1 code: "
            "en, fr, ru, …)"
        )
    organisation = field("organisation", "organisation")
    delegation_type = field("delegation_type", "delegation type", 80)
    if problems or attends is None or country is None or language is None:
        return None, problems
    return (
        Registration(
            key=key,
            participant_id="",
            name=name,
            email=email,
            attends=attends,
            organisation=organisation,
            delegation_type=delegation_type,
            country=country,
            language=language,
        ),
        problems,
    )
