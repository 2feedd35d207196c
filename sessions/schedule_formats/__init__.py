"""Import a conference programme from a pretalx ``schedule.json`` or a frab ``schedule.xml``.

:func:`parse_schedule` is the only entry point. Whatever the bytes, it returns a validated
:class:`~sessions.programme.Programme` or raises :class:`ScheduleFormatError`, whose message is
one line an organiser can act on.
"""

from __future__ import annotations

from sessions.programme import Programme, ProgrammeError, validate
from sessions.schedule_formats.common import ScheduleFormatError
from sessions.schedule_formats.frab import parse_frab
from sessions.schedule_formats.pretalx_json import parse_pretalx_json

MAX_SCHEDULE_BYTES = 16 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_UNEXPECTED = (
    ArithmeticError,
    AttributeError,
    LookupError,
    OSError,
    TypeError,
    ValueError,
)


def parse_schedule(data: bytes, *, default_time_zone: str = "UTC") -> Programme:
    """Parse a schedule, telling the format by its first character (``{`` JSON, ``<`` XML).

    ``default_time_zone`` applies to files that name no zone (old frab exports).
    """
    if len(data) > MAX_SCHEDULE_BYTES:
        raise ScheduleFormatError(
            f"the schedule is {len(data):,} bytes; the limit is {MAX_SCHEDULE_BYTES:,}"
        )
    body = bytes(data).removeprefix(_BOM)
    try:
        return validate(_parse(body, default_time_zone))
    except ScheduleFormatError:
        raise
    except ProgrammeError as error:
        raise ScheduleFormatError(f"the schedule is inconsistent: {error}") from None
    except RecursionError:
        raise ScheduleFormatError("the schedule is nested too deeply") from None
    except _UNEXPECTED as error:
        raise ScheduleFormatError(
            f"the schedule could not be read ({type(error).__name__}: {error})"
        ) from None


def _parse(body: bytes, default_time_zone: str) -> Programme:
    first = body.lstrip()[:1]
    if first == b"{":
        return parse_pretalx_json(body, default_time_zone)
    if first == b"<":
        return parse_frab(body, default_time_zone)
    if not first:
        raise ScheduleFormatError("the schedule is empty")
    if first == b"[":
        raise ScheduleFormatError(
            "the schedule is a JSON list; a pretalx schedule.json is an object ({…})"
        )
    raise ScheduleFormatError(
        "the schedule is neither pretalx JSON (starting with '{') nor frab XML (starting with '<')"
    )


__all__ = ["MAX_SCHEDULE_BYTES", "ScheduleFormatError", "parse_schedule"]
