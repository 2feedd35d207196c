from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions.programme import Programme
from sessions.schedule_formats import MAX_SCHEDULE_BYTES, ScheduleFormatError, parse_schedule

FIXTURES = (
    "divoc-r2r-2021.frab.xml",
    "divoc-ptt-2021.frab.xml",
    "froscon-2013.frab.xml",
    "pretalx-democon.json",
)
FROSCON = "froscon-2013.frab.xml"
DEMOCON = "pretalx-democon.json"
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def fixture_bytes(directory: Path, name: str) -> bytes:
    return (directory / name).read_bytes()


def rejects(data: bytes, match: str, **options: str) -> ScheduleFormatError:
    with pytest.raises(ScheduleFormatError, match=match) as caught:
        parse_schedule(data, **options)
    message = str(caught.value)
    assert message
    assert "\n" not in message
    return caught.value


def parses_or_rejects(data: bytes) -> None:
    result: Programme | ScheduleFormatError
    try:
        result = parse_schedule(data)
    except ScheduleFormatError as error:
        result = error
    if isinstance(result, ScheduleFormatError):
        assert str(result)
        assert "\n" not in str(result)
    else:
        assert all(s.guid and s.title for s in result.sessions)


def froscon_with(schedules_dir: Path, old: bytes, new: bytes) -> bytes:
    data = fixture_bytes(schedules_dir, FROSCON)
    assert old in data
    return data.replace(old, new, 1)


def democon_document(schedules_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(fixture_bytes(schedules_dir, DEMOCON))
    return document


def democon_event(document: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = document["schedule"]["conference"]["days"][0]["rooms"]["Gray Room"][0]
    return event


def democon_with(schedules_dir: Path, **fields: object) -> bytes:
    document = democon_document(schedules_dir)
    democon_event(document).update(fields)
    return json.dumps(document).encode()


def test_malformed_xml_names_line_and_column() -> None:
    rejects(
        b"<schedule>\n<conference>\n  <title></acronym>",
        r"^the schedule is not well-formed XML \(line 3, column \d+\)$",
    )


def test_billion_laughs_is_refused() -> None:
    entities = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE schedule [<!ENTITY lol0 "lol">{entities}]>'
        "<schedule>&lol9;</schedule>"
    ).encode()

    rejects(bomb, r"entities are not allowed in a schedule \(entity bomb\?\)")


def test_external_entity_is_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE schedule [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<schedule><conference><title>&xxe;</title></conference></schedule>"
    )

    error = rejects(xxe, "not allowed in a schedule")
    assert "root:" not in str(error)


def test_dtd_is_refused() -> None:
    rejects(b'<!DOCTYPE schedule SYSTEM "schedule.dtd"><schedule/>', r"DTDs \(<!DOCTYPE")


def test_undeclared_entity_is_malformed() -> None:
    rejects(b"<schedule>&passwd;</schedule>", "not well-formed XML")


def test_50_megabytes_fail_fast_on_size() -> None:
    data = b"<schedule>" + b" " * (50 * 1024 * 1024)
    started = time.perf_counter()

    rejects(data, r"^the schedule is 52,428,810 bytes; the limit is 16,777,216$")

    assert time.perf_counter() - started < 0.5


def test_just_over_the_limit_is_refused() -> None:
    rejects(b"{" + b" " * MAX_SCHEDULE_BYTES, "the limit is 16,777,216")


@pytest.mark.parametrize("data", [b"", b"   \n\t ", b"\xef\xbb\xbf"])
def test_empty_file(data: bytes) -> None:
    rejects(data, "^the schedule is empty$")


@pytest.mark.parametrize("data", [bytes(range(256)), b"\x00\x01\x02", b"\x89PNG\r\n\x1a\n"])
def test_binary_garbage(data: bytes) -> None:
    rejects(data, "neither pretalx JSON .* nor frab XML")


def test_garbage_after_a_brace_is_not_json() -> None:
    rejects(b"{\xff\xfe\x00garbage", "not valid UTF-8")
    rejects(b"{'schedule': 1}", r"not valid JSON \(.* line 1, column 2\)")


def test_json_list() -> None:
    rejects(b'[{"schedule": {}}]', "is a JSON list")


def test_deeply_nested_json_list() -> None:
    rejects(b"[" * 100_000, "is a JSON list")


def test_deeply_nested_json_inside_an_object() -> None:
    rejects(b'{"schedule": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply")


def test_deeply_nested_xml() -> None:
    rejects(b"<schedule>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</schedule>", "nested")


def test_xml_that_is_not_a_schedule() -> None:
    rejects(b"<html><body/></html>", "not a frab schedule")
    rejects(b"<schedule/>", "no <conference>")


def test_missing_guid(schedules_dir: Path) -> None:
    data = froscon_with(schedules_dir, b" guid='8tXkx-Ci8nmdmvZneMp93g'", b"")

    rejects(data, r'^event 1212 \("Verkehrte Welt"\) has no guid$')


def test_missing_guid_json(schedules_dir: Path) -> None:
    rejects(democon_with(schedules_dir, guid=""), "^event 25 .* has no guid$")


def test_missing_title(schedules_dir: Path) -> None:
    data = froscon_with(schedules_dir, b"<title>Verkehrte Welt</title>", b"<title>  </title>")

    rejects(data, "^event 1212 has no title$")


def test_title_too_long(schedules_dir: Path) -> None:
    rejects(democon_with(schedules_dir, title="x" * 501), "title is 501 characters long")


def test_mistyped_duration(schedules_dir: Path) -> None:
    data = froscon_with(schedules_dir, b"<duration>01:00</duration>", b"<duration>abc</duration>")

    rejects(data, r"""^event 1212 \("Verkehrte Welt"\): duration 'abc' is not HH:MM$""")


def test_mistyped_date(schedules_dir: Path) -> None:
    rejects(
        democon_with(schedules_dir, date="yesterday"),
        "^event 25 .*: date 'yesterday' is not an ISO date and time$",
    )


def test_mistyped_start(schedules_dir: Path) -> None:
    data = froscon_with(schedules_dir, b"<start>10:00</start>", b"<start>25:00</start>")

    rejects(data, "start '25:00' is not HH:MM")


def test_mistyped_day(schedules_dir: Path) -> None:
    rejects(froscon_with(schedules_dir, b"index='1'", b"index='x'"), "index 'x' is not a whole")
    rejects(froscon_with(schedules_dir, b"date='2013-08-24'", b"date='soon'"), "is not an ISO")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("title", 42, "title must be text, not a number"),
        ("title", ["a"], "title must be text, not a list"),
        ("persons", {"id": 1}, "persons must be a JSON list, not an object"),
        ("persons", [{"public_name": "Nobody"}], "speaker without an id"),
        ("persons", ["Ada"], "a speaker must be a JSON object, not text"),
        ("duration", 30, "duration must be text, not a number"),
        ("do_not_record", "maybe", "do_not_record 'maybe' is not true or false"),
        ("links", [42], "a link must be a URL or an object, not a number"),
        ("links", ["javascript:alert(1)"], r"link 'javascript:alert\(1\)' is not an http"),
        ("url", "https://x/talk/bad code/", "code 'bad code' may only hold"),
        ("logo", "http://[::1", "logo 'http://\\[::1' is not a URL"),
    ],
)
def test_mistyped_json_fields(schedules_dir: Path, field: str, value: object, match: str) -> None:
    rejects(democon_with(schedules_dir, **{field: value}), match)


def test_json_fields_missing_together(schedules_dir: Path) -> None:
    rejects(democon_with(schedules_dir, date=None, start=None), "^event 25 .* has no start time$")
    rejects(democon_with(schedules_dir, duration=None), "^event 25 .* has no duration$")
    rejects(democon_with(schedules_dir, url=None, id=True), "id must be a whole number or text")
    rejects(democon_with(schedules_dir, url=None, id=None), "neither an id nor a pretalx talk URL")


def test_duplicate_guids(schedules_dir: Path) -> None:
    data = froscon_with(
        schedules_dir, b"guid='8tXkx-Ci8nmdmvZneMp93g'", b"guid='fiY1iSGUjvq3YcgI6dYBwA'"
    )

    rejects(data, "two sessions share the guid 'fiY1iSGUjvq3YcgI6dYBwA'")


def test_duplicate_codes(schedules_dir: Path) -> None:
    data = froscon_with(schedules_dir, b"id='1212'", b"id='1237'")

    rejects(data, "two sessions share the code '1237'")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "", "/etc/localtime"])
def test_invalid_default_time_zone(schedules_dir: Path, zone: str) -> None:
    rejects(
        fixture_bytes(schedules_dir, FROSCON),
        "is not a known time zone name",
        default_time_zone=zone,
    )


def test_invalid_time_zone_in_the_file(schedules_dir: Path) -> None:
    document = democon_document(schedules_dir)
    document["schedule"]["conference"]["time_zone_name"] = "Europe/Atlantis"

    rejects(json.dumps(document).encode(), "^'Europe/Atlantis' is not a known time zone name")


@pytest.mark.parametrize(
    ("zone", "date", "start"),
    [
        ("Europe/Berlin", "1850-06-01T10:00:00", None),  # +00:53:28 until 1893
        ("America/New_York", None, "10:00"),  # -04:56:02 until 1883, a frab-style start
    ],
)
def test_local_mean_time_is_refused(
    schedules_dir: Path, zone: str, date: str | None, start: str | None
) -> None:
    """Found by the fuzz suite: a store keeps UTC offsets to the minute, so such a session
    came back stored some seconds later than imported."""
    document = democon_document(schedules_dir)
    document["schedule"]["conference"]["time_zone_name"] = zone
    day = document["schedule"]["conference"]["days"][0]
    if date is None:
        day.update(date="1850-06-01", day_start=None, day_end=None)
    democon_event(document).update(date=date, start=start)

    rejects(json.dumps(document).encode(), r"^(event 25 .*|day 1): 1850-06-01T.* local mean time")


def test_too_many_events() -> None:
    event = (
        "<event guid='g{n}' id='{n}'><start>10:00</start><duration>00:10</duration>"
        "<title>t</title></event>"
    )
    events = "".join(event.format(n=n) for n in range(20_001))
    data = (
        "<schedule><conference><acronym>big</acronym><title>Big</title></conference>"
        f"<day index='1' date='2024-01-01'><room name='R'>{events}</room></day></schedule>"
    ).encode()

    rejects(data, "more than 20,000 events")


@FUZZ
@given(data=st.binary(max_size=2_000))
def test_arbitrary_bytes(data: bytes) -> None:
    parses_or_rejects(data)


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=300).map(lambda b: b"<" + b),
        st.binary(max_size=300).map(lambda b: b"{" + b),
        st.text(max_size=300).map(lambda t: ("<schedule>" + t).encode()),
    )
)
def test_arbitrary_bytes_after_a_format_marker(data: bytes) -> None:
    parses_or_rejects(data)


MUTATIONS = st.tuples(
    st.sampled_from(FIXTURES),
    st.sampled_from(["delete", "insert", "replace"]),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=1, max_value=64),
    st.binary(min_size=1, max_size=64),
)


@FUZZ
@given(mutation=MUTATIONS)
def test_mutated_fixtures(
    schedules_dir: Path, mutation: tuple[str, str, float, int, bytes]
) -> None:
    name, operation, where, length, payload = mutation
    data = fixture_bytes(schedules_dir, name)
    at = int(where * len(data))
    kept = {"delete": b"", "insert": payload, "replace": payload}[operation]
    skip = 0 if operation == "insert" else length
    parses_or_rejects(data[:at] + kept + data[at + skip :])


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["", "00:30", "2020-12-14T09:00:00+01:00", "/talk/X/", "a" * 600]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["url", "title", "id", "code", "name"]), children)
    ),
    max_leaves=12,
)
EVENT_KEYS = (
    "id",
    "guid",
    "code",
    "logo",
    "date",
    "start",
    "end",
    "duration",
    "room",
    "slug",
    "url",
    "title",
    "subtitle",
    "track",
    "type",
    "language",
    "abstract",
    "description",
    "recording_license",
    "do_not_record",
    "persons",
    "links",
    "attachments",
)


@FUZZ
@given(key=st.sampled_from(EVENT_KEYS), value=JSON_VALUES, person=st.booleans())
def test_json_values_at_event_keys(
    schedules_dir: Path, key: str, value: object, person: bool
) -> None:
    document = democon_document(schedules_dir)
    event = democon_event(document)
    target: dict[str, Any] = event["persons"][0] if person else event
    target[key] = value

    parses_or_rejects(json.dumps(document).encode())


@FUZZ
@given(
    key=st.sampled_from(["acronym", "title", "start", "end", "time_zone_name", "rooms", "days"]),
    value=JSON_VALUES,
)
def test_json_values_at_conference_keys(schedules_dir: Path, key: str, value: object) -> None:
    document = democon_document(schedules_dir)
    document["schedule"]["conference"][key] = value

    parses_or_rejects(json.dumps(document).encode())


def test_too_many_days_and_rooms() -> None:
    head = "<schedule><conference><acronym>big</acronym><title>Big</title></conference>"
    days = "".join(f"<day index='{n}' date='2024-01-01'/>" for n in range(1_001))
    rooms = "".join(f"<room name='r{n}'/>" for n in range(10_001))

    rejects(f"{head}{days}</schedule>".encode(), "more than 1,000 days")
    rejects(
        f"{head}<day index='1' date='2024-01-01'>{rooms}</day></schedule>".encode(),
        "more than 10,000 rooms",
    )
