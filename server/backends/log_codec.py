"""Commands (Q&A, break-outs, the archive, stream delivery, captions) as bytes for the command log,
and back. Unknown input is refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import msgspec

from recordings import archive
from sessions import breakouts, captions, delivery
from sessions.qa import AddNote, Ask, Configure, Moderate, Unvote, Vote
from sessions.qa import Command as QACommand

Command = (
    QACommand
    | breakouts.BreakoutCommand
    | archive.ArchiveCommand
    | delivery.DeliveryCommand
    | captions.CaptionCommand
)

COMMAND_KINDS: dict[str, type[Command]] = {
    "ask": Ask,
    "vote": Vote,
    "unvote": Unvote,
    "moderate": Moderate,
    "configure": Configure,
    "note": AddNote,
    "breakouts.plan": breakouts.PlanRooms,
    "breakouts.join": breakouts.Join,
    "breakouts.leave": breakouts.Leave,
    "breakouts.assign": breakouts.Assign,
    "breakouts.rebalance": breakouts.Rebalance,
    "breakouts.move": breakouts.Move,
    "breakouts.choose": breakouts.Choose,
    "breakouts.open": breakouts.Open,
    "breakouts.extend": breakouts.Extend,
    "breakouts.broadcast": breakouts.Broadcast,
    "breakouts.ask_help": breakouts.AskHelp,
    "breakouts.answer_help": breakouts.AnswerHelp,
    "breakouts.visit": breakouts.Visit,
    "breakouts.close": breakouts.Close,
    "breakouts.say": breakouts.Say,
    "breakouts.present": breakouts.Present,
    "breakouts.away": breakouts.Away,
    "archive.started": archive.RecordingStarted,
    "archive.failed": archive.RecordingFailed,
    "archive.stopped": archive.RecordingStopped,
    "archive.processed": archive.RecordingProcessed,
    "archive.published": archive.SetPublished,
    "archive.wanted": archive.WantRecording,
    "archive.marker": archive.AddMarker,
    "delivery.broadcast": delivery.SetBroadcast,
    "delivery.cut": delivery.SetCut,
    "delivery.interpretation": delivery.SetInterpretation,
    "delivery.consent": delivery.SetConsent,
    "delivery.off_record": delivery.SetOffRecord,
    "captions.cue": captions.AddCue,
    "captions.correct": captions.CorrectCue,
}
_KIND_OF: dict[type[Any], str] = {kind: name for name, kind in COMMAND_KINDS.items()}


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One command as the log keeps it: for which session, and when it was received."""

    session_code: str
    received_at: dt.datetime
    command: Command


class _Envelope(msgspec.Struct, frozen=True):
    session: str
    at: dt.datetime
    kind: str
    command: msgspec.Raw


class CodecError(ValueError):
    pass


_encoder = msgspec.json.Encoder()
_envelope_decoder = msgspec.json.Decoder(_Envelope)
_decoders = {name: msgspec.json.Decoder(kind) for name, kind in COMMAND_KINDS.items()}


def encode_entry(entry: LogEntry) -> bytes:
    return _encoder.encode(
        _Envelope(
            session=entry.session_code,
            at=entry.received_at,
            kind=_KIND_OF[type(entry.command)],
            command=msgspec.Raw(_encoder.encode(entry.command)),
        )
    )


def decode_entry(data: bytes) -> LogEntry:
    try:
        envelope = _envelope_decoder.decode(data)
        decoder = _decoders.get(envelope.kind)
        if decoder is None:
            raise CodecError(f"unknown command kind {envelope.kind!r}")
        command: Command = decoder.decode(envelope.command)
    except msgspec.MsgspecError as error:
        raise CodecError(str(error)) from None
    return LogEntry(session_code=envelope.session, received_at=envelope.at, command=command)
