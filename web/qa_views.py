"""What each audience sees of a question, as JSON-ready dictionaries."""

from __future__ import annotations

from typing import Any

from sessions.qa import Note, QASession, QASettings, Question, QueueOrder, ordered

MERGE_TARGET_CHARS = 60
"""How much of the question a participant's was merged into they are shown."""


def shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def public_question(
    question: Question, viewer_id: str = "", highlighted: str = ""
) -> dict[str, Any]:
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


def own_question(
    question: Question, merge_target: Question | None, highlighted: str = ""
) -> dict[str, Any]:
    """A question as its author sees it: also what it was merged into, if it was."""
    return {
        **public_question(question, question.author_id, highlighted),
        "merged_into_text": (
            shortened(merge_target.text, MERGE_TARGET_CHARS) if merge_target else ""
        ),
    }


def moderator_question(question: Question, highlighted: str = "") -> dict[str, Any]:
    return {
        **public_question(question, highlighted=highlighted),
        "starred": question.starred,
        "position": question.position,
        "merged_into": question.merged_into,
        "anonymous": question.anonymous,
        "history": [
            {"text": r.text, "edited_by": r.edited_by, "edited_at": r.edited_at.isoformat()}
            for r in question.history
        ],
    }


def settings_view(settings: QASettings) -> dict[str, Any]:
    return {"open": settings.open, "moderation": settings.moderation}


def note_view(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "author": note.author_name,
        "text": note.text,
        "written_at": note.written_at.isoformat(),
    }


def participant_snapshot(qa: QASession, viewer_id: str, order: QueueOrder) -> dict[str, Any]:
    """The session's Q&A as one participant sees it: the public queue plus their own."""
    own = [
        own_question(q, qa.merge_target(q), qa.highlighted)
        for q in ordered(qa.own_questions(viewer_id), "time")
        if not q.is_public
    ]
    return {
        "settings": settings_view(qa.settings),
        "questions": [
            public_question(q, viewer_id, qa.highlighted)
            for q in ordered(qa.public_questions(), order)
        ],
        "own": own if viewer_id else [],
        "highlighted": qa.highlighted or None,
    }


def moderator_snapshot(qa: QASession, order: QueueOrder) -> dict[str, Any]:
    return {
        "settings": settings_view(qa.settings),
        "questions": [
            moderator_question(q, qa.highlighted)
            for q in ordered(list(qa.questions.values()), order)
        ],
        "notes": [note_view(n) for n in qa.notes],
        "highlighted": qa.highlighted or None,
    }
