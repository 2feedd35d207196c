"""Reading registration exports (pretix, Indico, spreadsheets) and planning a re-import:
every bad row is reported with its line, and a bad file yields nothing."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from sessions.registration_import import (
    MAX_BYTES,
    MAX_ROWS,
    RegistrationImportError,
    attendance,
    country_code,
    language_code,
    read_registrations,
)
from sessions.registrations import Registration, plan_import

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "registrations"
HEADER = "Name,Email,Organisation,Delegation type,Country,Attendance,Language\n"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def problems(data: bytes) -> list[tuple[int, str]]:
    with pytest.raises(RegistrationImportError) as raised:
        read_registrations(data)
    return raised.value.problems


def test_a_pretix_order_export() -> None:
    imported = read_registrations(fixture("pretix-order-positions.csv"))
    people = imported.registrations
    assert [r.key for r in people] == ["Q7KXM-1", "Q7KXM-2", "R2D2A-1", "K9PLX-1"]
    anna, lukas, marie, elena = people
    assert anna == Registration(
        key="Q7KXM-1",
        participant_id="",
        name="Anna Gruber",
        email="anna.gruber@bmeia.gv.at",
        attends="in_person",
        organisation="Permanent Mission of Austria",
        delegation_type="Delegate",
        country="AT",
        language="de",
    )
    assert lukas.email == "office@bmeia.gv.at"  # no attendee e-mail: the order's
    assert lukas.attends == "remote"
    assert marie.organisation == "Ministère de l'Europe et des Affaires étrangères"
    assert (elena.name, elena.country, elena.language) == ("Елена Иванова", "RU", "ru")
    assert imported.skipped == (5,)  # the cancelled order
    assert not imported.attendance_assumed


def test_an_indico_registrant_export() -> None:
    imported = read_registrations(fixture("indico-registrants.csv"))
    assert [(r.key, r.name, r.country, r.attends, r.language) for r in imported.registrations] == [
        ("17", "Giulia Rossi", "IT", "in_person", "it"),
        ("18", "Carlos García López", "ES", "remote", "es"),
        ("20", "Kwame Mensah", "GH", "in_person", "en"),
    ]
    # A quoted cell over two lines is one cell, white space collapsed.
    assert imported.registrations[2].organisation == (
        "Ministry of Foreign Affairs and Regional Integration"
    )
    assert imported.skipped == (4,)  # withdrawn


def test_spreadsheets_with_a_bom_semicolons_and_french_headers() -> None:
    english = read_registrations(fixture("spreadsheet.csv")).registrations
    assert [(r.key, r.country, r.attends, r.language) for r in english] == [
        ("ana.pereira@mne.pt", "PT", "in_person", "pt"),
        ("ole.hansen@um.dk", "DK", "remote", "da"),
        ("sara.cohen@osce.org", "", "in_person", "en"),
        ("m.yilmaz@mfa.gov.tr", "TR", "remote", "tr"),
    ]
    french = read_registrations(fixture("spreadsheet-fr.csv")).registrations
    assert [(r.name, r.country, r.attends, r.delegation_type) for r in french] == [
        ("Élodie Martin", "BE", "in_person", "État participant"),
        ("Jonas Weber", "CH", "remote", "État participant"),
    ]


def test_a_malformed_file_reports_every_bad_line_and_yields_nothing() -> None:
    assert problems(fixture("malformed.csv")) == [
        (3, "the name is empty"),
        (4, "'not-an-address' is not an e-mail address"),
        (5, "'Atlantis' is not a country"),
        (6, "'by carrier pigeon' does not say in person or remote"),
        (7, "the same registration (ana.pereira@mne.pt) as line 2"),
        (8, "'klingon' is not a language (an ISO 639-1 code: en, fr, ru, …)"),
    ]


def test_line_numbers_count_quoted_line_breaks_and_blank_lines() -> None:
    data = (
        HEADER + 'A,a@example.org,"Two\nlines",x,AT,remote,en\n\n'
        "B,b@example.org,Org,x,Narnia,remote,en\n"
    )
    assert problems(data.encode()) == [(5, "'Narnia' is not a country")]


def test_duplicate_ids_are_refused_with_both_lines() -> None:
    data = (
        "ID,Name,Email,Country\n7,A,a@example.org,AT\n8,B,b@example.org,AT\n7,C,c@example.org,AT\n"
    )
    assert problems(data.encode()) == [(4, "the same registration (7) as line 2")]


def test_missing_columns_are_named() -> None:
    assert problems(b"Organisation,Country\nX,AT\n") == [
        (1, "no column holds the name (name, or first name and last name)"),
        (1, "no column holds the e-mail address (email, e-mail)"),
    ]


def test_without_an_attendance_column_everyone_comes_in_person() -> None:
    imported = read_registrations(b"Name,Email\nA,a@example.org\n")
    assert imported.attendance_assumed
    assert imported.registrations[0].attends == "in_person"
    # With the column, an empty cell is a problem, not an assumption.
    assert problems(b"Name,Email,Attendance\nA,a@example.org,\n") == [
        (2, "it does not say whether they come in person or remotely")
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", [(1, "the file is empty")]),
        (b"Name,Email\n", [(1, "the file lists nobody")]),
        (b"Name,Email\n\n\n", [(1, "the file lists nobody")]),
        (
            b"Name,Email\nA,a@example.org\nB\xff,b@example.org\n",
            [(3, "the file is not UTF-8 text: save or export it as CSV UTF-8")],
        ),
        (
            b"Name,Email\nA\x00,a@example.org\n",
            [(2, "the name contains control characters")],
        ),
        (
            b'Name,Email\n"A,a@example.org\n',
            [(2, "the CSV cannot be read: unexpected end of data")],
        ),
        (
            b"Name,Email\nA,a@example.org,extra\n",
            [(2, "the row has 3 cells but the header names 2 columns")],
        ),
        (
            b"Name,Email\n" + b"A" * 201 + b",a@example.org\n",
            [(2, "the name is longer than 200 characters")],
        ),
    ],
)
def test_hostile_files_get_a_refusal_with_a_line(
    data: bytes, expected: list[tuple[int, str]]
) -> None:
    assert problems(data) == expected


def test_size_and_row_caps() -> None:
    assert problems(b"x" * (MAX_BYTES + 1))[0][0] == 1
    rows = "".join(f"P{i},p{i}@example.org\n" for i in range(MAX_ROWS + 1))
    found = problems(("Name,Email\n" + rows).encode())
    assert found == [(MAX_ROWS + 2, f"an export lists at most {MAX_ROWS} people")]


def test_a_file_with_many_bad_rows_reports_a_bounded_list() -> None:
    rows = "".join(f"P{i},nope\n" for i in range(1000))
    found = problems(("Name,Email\n" + rows).encode())
    assert len(found) == 200
    assert found[-1][1] == "too many problems: the rest of the file was not read"


def test_utf16_exports() -> None:
    data = "Name\tEmail\tCountry\nZoë\tzoe@example.org\tNetherlands\n".encode("utf-16")
    (zoe,) = read_registrations(data).registrations
    assert (zoe.name, zoe.country) == ("Zoë", "NL")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("at", "AT"),
        ("Austria", "AT"),
        ("Österreich", "AT"),
        ("Autriche", "AT"),
        ("united states", "US"),
        ("USA", "US"),
        ("Russia", "RU"),
        ("Россия", "RU"),
        ("Türkiye", "TR"),
        ("", ""),
        ("Atlantis", None),
        ("ZZ", None),
    ],
)
def test_countries(raw: str, code: str | None) -> None:
    assert country_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "code"),
    [("fr", "fr"), ("FR", "fr"), ("fr-CH", "fr"), ("pt_BR", "pt"), ("German", "de"), ("xx", None)],
)
def test_languages(raw: str, code: str | None) -> None:
    assert language_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "attends"),
    [
        ("In person", "in_person"),
        ("on-site", "in_person"),
        ("ONSITE", "in_person"),
        ("présentiel", "in_person"),
        ("Vor Ort", "in_person"),
        ("remote", "remote"),
        ("Online", "remote"),
        ("virtual", "remote"),
        ("à distance", "remote"),
        ("онлайн", "remote"),
        ("maybe", None),
    ],
)
def test_attendance_spellings(raw: str, attends: str | None) -> None:
    assert attendance(raw) == attends


def test_a_plan_keeps_ids_and_reports_what_changed() -> None:
    ids = (f"id{i}" for i in itertools.count())
    first = read_registrations(fixture("spreadsheet.csv")).registrations
    plan = plan_import([], first, lambda: next(ids))
    assert [r.participant_id for r in plan.registrations] == ["id0", "id1", "id2", "id3"]
    again = plan_import(plan.registrations, first, lambda: next(ids))
    assert not again.changes.changed_anything
    assert again.registrations == plan.registrations
