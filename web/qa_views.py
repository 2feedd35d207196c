"""What each audience sees of the Q&A, as typed views: one schema for the JSON API, the
socket's snapshots and frames, and the templates (the JS relies on these names)."""

from __future__ import annotations

import msgspec

from sessions.qa import Note, QASession, QASettings, Question, QueueOrder, ordered

MERGE_TARGET_CHARS = 60
"""How much of the question a participant's was merged into they are shown."""


class QuestionView(msgspec.Struct, frozen=True, kw_only=True):
    """A question as everyone sees it (``voted`` and ``mine`` for the one asking)."""

    id: str
    text: str
    author: str
    addressed_to: str
    state: str
    votes: int
    asked_at: str
    answered_at: str | None
    highlighted: bool
    voted: bool
    mine: bool
    edited: bool


class OwnQuestionView(QuestionView, frozen=True, kw_only=True):
    """A question as its author sees it: also what it was merged into, if it was."""

    merged_into_text: str


class Revision(msgspec.Struct, frozen=True):
    text: str
    edited_by: str
    edited_at: str


class ModeratorQuestionView(QuestionView, frozen=True, kw_only=True):
    starred: bool
    position: float | None
    merged_into: str
    anonymous: bool
    history: tuple[Revision, ...]


class SettingsView(msgspec.Struct, frozen=True):
    open: bool
    moderation: str


class NoteView(msgspec.Struct, frozen=True):
    id: str
    author: str
    text: str
    written_at: str


class ParticipantSnapshot(msgspec.Struct, frozen=True):
    settings: SettingsView
    questions: list[QuestionView]
    own: list[OwnQuestionView]
    highlighted: str | None


class ModeratorSnapshot(msgspec.Struct, frozen=True):
    settings: SettingsView
    questions: list[ModeratorQuestionView]
    notes: list[NoteView]
    highlighted: str | None


class OwnQuestionsSnapshot(msgspec.Struct, frozen=True):
    """A participant's own topic: their questions in every session and what they voted for."""

    participant: str
    own: list[OwnQuestionView]
    voted: list[str]


def shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _public_fields(question: Question, viewer_id: str, highlighted: str) -> dict[str, object]:
    return {
        "id": question.id,
        "text": question.text,
        "author": question.public_author,
        "addressed_to": question.addressed_to,
        "state": question.state,
        "votes": question.votes,
        "asked_at": question.asked_at.isoformat(),
        "answered_at": question.answered_at.isoformat() if question.answered_at else None,
        "highlighted": question.id == highlighted,
        "voted": bool(viewer_id) and viewer_id in question.voters,
        "mine": bool(viewer_id) and viewer_id == question.author_id,
        "edited": bool(question.history),
    }


def public_question(question: Question, viewer_id: str = "", highlighted: str = "") -> QuestionView:
    return QuestionView(**_public_fields(question, viewer_id, highlighted))  # type: ignore[arg-type]


def own_question(
    question: Question, merge_target: Question | None, highlighted: str = ""
) -> OwnQuestionView:
    return OwnQuestionView(
        **_public_fields(question, question.author_id, highlighted),  # type: ignore[arg-type]
        merged_into_text=shortened(merge_target.text, MERGE_TARGET_CHARS) if merge_target else "",
    )


def moderator_question(question: Question, highlighted: str = "") -> ModeratorQuestionView:
    return ModeratorQuestionView(
        **_public_fields(question, "", highlighted),  # type: ignore[arg-type]
        starred=question.starred,
        position=question.position,
        merged_into=question.merged_into,
        anonymous=question.anonymous,
        history=tuple(
            Revision(r.text, r.edited_by, r.edited_at.isoformat()) for r in question.history
        ),
    )


def settings_view(settings: QASettings) -> SettingsView:
    return SettingsView(settings.open, settings.moderation)


def note_view(note: Note) -> NoteView:
    return NoteView(note.id, note.author_name, note.text, note.written_at.isoformat())


def participant_snapshot(qa: QASession, viewer_id: str, order: QueueOrder) -> ParticipantSnapshot:
    """The session's Q&A as one participant sees it: the public queue plus their own."""
    own = [
        own_question(q, qa.merge_target(q), qa.highlighted)
        for q in ordered(qa.own_questions(viewer_id), "time")
        if not q.is_public
    ]
    return ParticipantSnapshot(
        settings=settings_view(qa.settings),
        questions=[
            public_question(q, viewer_id, qa.highlighted)
            for q in ordered(qa.public_questions(), order)
        ],
        own=own if viewer_id else [],
        highlighted=qa.highlighted or None,
    )


def moderator_snapshot(qa: QASession, order: QueueOrder) -> ModeratorSnapshot:
    return ModeratorSnapshot(
        settings=settings_view(qa.settings),
        questions=[
            moderator_question(q, qa.highlighted)
            for q in ordered(list(qa.questions.values()), order)
        ],
        notes=[note_view(n) for n in qa.notes],
        highlighted=qa.highlighted or None,
    )
