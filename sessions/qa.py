"""Moderated Q&A for one programme session: a state machine that does no I/O.

Every change arrives as a command with the time it was received; :meth:`QASession.apply`
validates it against the current state, changes the state and returns events saying who
must learn what. Applying the same commands in the same order gives the same state and
events on every process, which is what lets several processes share one command log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Literal, assert_never

from sessions import domain_errors
from sessions.ratelimit import SlidingWindow

QuestionState = Literal["pending", "visible", "answered", "archived", "dismissed"]
ModerationMode = Literal["pre", "post"]
ModerationAction = Literal[
    "approve",
    "dismiss",
    "answer",
    "highlight",
    "unhighlight",
    "archive",
    "restore",
    "edit",
    "merge",
    "star",
    "unstar",
    "move",
]
StateChange = Literal["approve", "dismiss", "answer", "archive", "restore"]
"""The moderation actions that move a question from one state to another."""
QueueOrder = Literal["votes", "time", "manual"]

MAX_TEXT = 500
MAX_NOTE = 2000
QUESTIONS_PER_MINUTE = 3
VOTES_PER_MINUTE = 60
RATE_WINDOW = dt.timedelta(minutes=1)
PUBLIC_STATES: frozenset[QuestionState] = frozenset({"visible", "answered"})


class QAError(domain_errors.DomainError):
    scope = "qa"


@dataclass(frozen=True, slots=True)
class Revision:
    """The text a question had before a moderator edited it."""

    text: str
    edited_by: str
    edited_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    session_code: str
    author_id: str
    author_name: str
    text: str
    asked_at: dt.datetime
    state: QuestionState
    anonymous: bool = False
    addressed_to: str = ""
    """The key of the speaker the question is for, or empty for the panel."""
    voters: frozenset[str] = frozenset()
    starred: bool = False
    position: float | None = None
    """The moderator's manual place in the queue; unplaced questions follow by votes."""
    history: tuple[Revision, ...] = ()
    merged_into: str = ""
    answered_at: dt.datetime | None = None

    @property
    def votes(self) -> int:
        return len(self.voters)

    @property
    def public_author(self) -> str:
        return "Anonymous" if self.anonymous else self.author_name

    @property
    def is_public(self) -> bool:
        return self.state in PUBLIC_STATES


@dataclass(frozen=True, slots=True)
class QASettings:
    open: bool = True
    moderation: ModerationMode = "pre"


@dataclass(frozen=True, slots=True)
class Note:
    """A backstage note between moderators; never shown to participants."""

    id: str
    author_id: str
    author_name: str
    text: str
    written_at: dt.datetime


# Commands ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ask:
    question_id: str
    author_id: str
    author_name: str
    text: str
    anonymous: bool = False
    addressed_to: str = ""


@dataclass(frozen=True, slots=True)
class Vote:
    question_id: str
    participant_id: str


@dataclass(frozen=True, slots=True)
class Unvote:
    question_id: str
    participant_id: str


@dataclass(frozen=True, slots=True)
class Moderate:
    question_id: str
    moderator_id: str
    action: ModerationAction
    text: str = ""
    into: str = ""
    position: float | None = None


@dataclass(frozen=True, slots=True)
class Configure:
    moderator_id: str
    open: bool | None = None
    moderation: ModerationMode | None = None


@dataclass(frozen=True, slots=True)
class AddNote:
    note_id: str
    moderator_id: str
    moderator_name: str
    text: str


Command = Ask | Vote | Unvote | Moderate | Configure | AddNote


# Events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionShown:
    """The public sees this question (new, or changed)."""

    question: Question


@dataclass(frozen=True, slots=True)
class QuestionHidden:
    """The public no longer sees this question."""

    question_id: str


@dataclass(frozen=True, slots=True)
class QuestionModerated:
    """Moderators see every change to every question, in any state."""

    question: Question


@dataclass(frozen=True, slots=True)
class OwnQuestionChanged:
    """The author sees their own question, including pending and dismissed."""

    author_id: str
    question: Question
    merge_target: Question | None = None
    """The question this one was merged into, so that its author can be told which."""


@dataclass(frozen=True, slots=True)
class VotesChanged:
    question_id: str
    votes: int
    public: bool


@dataclass(frozen=True, slots=True)
class VoteRecorded:
    """Tells the voter whether their vote is counted."""

    participant_id: str
    question_id: str
    voted: bool


@dataclass(frozen=True, slots=True)
class HighlightChanged:
    """The question on screen changed; ``None`` when nothing is highlighted."""

    question: Question | None


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    settings: QASettings


@dataclass(frozen=True, slots=True)
class NoteAdded:
    note: Note


Event = (
    QuestionShown
    | QuestionHidden
    | QuestionModerated
    | OwnQuestionChanged
    | VotesChanged
    | VoteRecorded
    | HighlightChanged
    | SettingsChanged
    | NoteAdded
)


def within_rate(window: SlidingWindow, who: str, now: dt.datetime, what: str) -> None:
    domain_errors.within_rate(window, who, now, what, QAError)


def clean_text(raw: str, limit: int, what: str) -> str:
    return domain_errors.clean_text(raw, limit, what, QAError)


@dataclass
class QASession:
    """The Q&A of one programme session."""

    session_code: str
    settings: QASettings = field(default_factory=QASettings)
    questions: dict[str, Question] = field(default_factory=dict)
    highlighted: str = ""
    notes: list[Note] = field(default_factory=list)
    _asks: SlidingWindow = field(
        default_factory=lambda: SlidingWindow(QUESTIONS_PER_MINUTE, RATE_WINDOW), repr=False
    )
    _votes: SlidingWindow = field(
        default_factory=lambda: SlidingWindow(VOTES_PER_MINUTE, RATE_WINDOW), repr=False
    )

    # -- reading ---------------------------------------------------------------------------

    def question(self, question_id: str) -> Question:
        question = self.questions.get(question_id)
        if question is None:
            raise QAError(
                "qa.question_unknown", "There is no such question in this session.", "not_found"
            )
        return question

    def public_questions(self) -> list[Question]:
        return [q for q in self.questions.values() if q.is_public]

    def own_questions(self, author_id: str) -> list[Question]:
        return [q for q in self.questions.values() if q.author_id == author_id]

    def highlighted_question(self) -> Question | None:
        return self.questions.get(self.highlighted) if self.highlighted else None

    def merge_target(self, question: Question) -> Question | None:
        """The question ``question`` was merged into, if it was."""
        return self.questions.get(question.merged_into) if question.merged_into else None

    # -- writing ---------------------------------------------------------------------------

    def apply(self, command: Command, now: dt.datetime) -> list[Event]:
        """Apply ``command`` received at ``now``; raise :class:`QAError` and change nothing
        when it is not allowed."""
        match command:
            case Ask():
                return self._ask(command, now)
            case Vote():
                return self._vote(command.question_id, command.participant_id, True, now)
            case Unvote():
                return self._vote(command.question_id, command.participant_id, False, now)
            case Moderate():
                return self._moderate(command, now)
            case Configure():
                return self._configure(command)
            case AddNote():
                return self._add_note(command, now)
            case _:
                assert_never(command)

    def _ask(self, command: Ask, now: dt.datetime) -> list[Event]:
        if not self.settings.open:
            raise QAError("qa.closed", "Questions are closed for this session.")
        if command.question_id in self.questions:
            raise QAError("qa.duplicate_id", "A question with this id exists already.")
        text = clean_text(command.text, MAX_TEXT, "question")
        within_rate(self._asks, command.author_id, now, "questions")
        question = Question(
            id=command.question_id,
            session_code=self.session_code,
            author_id=command.author_id,
            author_name=command.author_name,
            text=text,
            asked_at=now,
            state="visible" if self.settings.moderation == "post" else "pending",
            anonymous=command.anonymous,
            addressed_to=command.addressed_to,
        )
        return self._store([question])

    def _vote(self, question_id: str, voter: str, up: bool, now: dt.datetime) -> list[Event]:
        question = self.question(question_id)
        if up and question.state != "visible":
            raise QAError("qa.not_votable", "Only questions in the open queue take votes.")
        if up and voter == question.author_id:
            raise QAError("qa.own_question", "You cannot vote for your own question.")
        if (voter in question.voters) == up:
            return [VoteRecorded(voter, question_id, up)]
        within_rate(self._votes, voter, now, "votes")
        voters = question.voters | {voter} if up else question.voters - {voter}
        self.questions[question_id] = replace(question, voters=voters)
        return [
            VoteRecorded(voter, question_id, up),
            VotesChanged(question_id, len(voters), public=question.is_public),
        ]

    def _moderate(self, command: Moderate, now: dt.datetime) -> list[Event]:
        question = self.question(command.question_id)
        if question.merged_into:
            raise QAError("qa.merged", "This question was merged into another one.")
        action = command.action
        match action:
            case "merge":
                return self._merge(question, command.into)
            case "edit":
                text = clean_text(command.text, MAX_TEXT, "question")
                if text == question.text:
                    return []
                revision = Revision(question.text, command.moderator_id, now)
                return self._store(
                    [replace(question, text=text, history=(*question.history, revision))]
                )
            case "star" | "unstar":
                return self._store([replace(question, starred=action == "star")])
            case "move":
                return self._store([replace(question, position=command.position)])
            case "highlight":
                return self._highlight(question)
            case "unhighlight":
                return self._unhighlight(question.id)
            case "approve" | "dismiss" | "answer" | "archive" | "restore":
                target = self._target_state(question, action)
                changed = replace(
                    question,
                    state=target,
                    answered_at=now if target == "answered" else question.answered_at,
                )
                events = self._store([changed])
                if target != "visible":
                    events += self._unhighlight(question.id)
                return events
            case _:
                assert_never(action)

    @staticmethod
    def _target_state(question: Question, action: StateChange) -> QuestionState:
        allowed: dict[StateChange, tuple[frozenset[QuestionState], QuestionState]] = {
            "approve": (frozenset({"pending", "dismissed"}), "visible"),
            "dismiss": (frozenset({"pending", "visible"}), "dismissed"),
            "answer": (frozenset({"pending", "visible"}), "answered"),
            "archive": (frozenset({"pending", "visible", "answered", "dismissed"}), "archived"),
            "restore": (frozenset({"answered", "archived", "dismissed"}), "visible"),
        }
        sources, target = allowed[action]
        if question.state not in sources:
            raise QAError(
                "qa.invalid_state", f"A question that is {question.state} cannot be {action}d."
            )
        return target

    def _highlight(self, question: Question) -> list[Event]:
        if question.state != "visible":
            raise QAError("qa.invalid_state", "Only a question in the open queue can go on screen.")
        if self.highlighted == question.id:
            return []
        self.highlighted = question.id
        return [HighlightChanged(question)]

    def _unhighlight(self, question_id: str) -> list[Event]:
        if self.highlighted != question_id:
            return []
        self.highlighted = ""
        return [HighlightChanged(None)]

    def _merge(self, duplicate: Question, into: str) -> list[Event]:
        if into == duplicate.id:
            raise QAError("qa.merge_self", "A question cannot be merged into itself.", "invalid")
        target = self.question(into)
        if target.merged_into or target.state in ("archived", "dismissed"):
            raise QAError("qa.invalid_state", "Merge into a question that is still open.")
        voters = (target.voters | duplicate.voters | {duplicate.author_id}) - {target.author_id}
        merged_target = replace(target, voters=voters)
        merged_duplicate = replace(duplicate, state="archived", merged_into=target.id)
        events = self._store([merged_target, merged_duplicate])
        events += self._unhighlight(duplicate.id)
        if voters != target.voters:
            events.append(VotesChanged(target.id, len(voters), public=target.is_public))
        return events

    def _configure(self, command: Configure) -> list[Event]:
        settings = QASettings(
            open=self.settings.open if command.open is None else command.open,
            moderation=command.moderation or self.settings.moderation,
        )
        if settings == self.settings:
            return []
        self.settings = settings
        return [SettingsChanged(settings)]

    def _add_note(self, command: AddNote, now: dt.datetime) -> list[Event]:
        note = Note(
            id=command.note_id,
            author_id=command.moderator_id,
            author_name=command.moderator_name,
            text=clean_text(command.text, MAX_NOTE, "note"),
            written_at=now,
        )
        self.notes.append(note)
        return [NoteAdded(note)]

    def _store(self, changed: list[Question]) -> list[Event]:
        events: list[Event] = []
        for question in changed:
            before = self.questions.get(question.id)
            self.questions[question.id] = question
            events.append(QuestionModerated(question))
            events.append(
                OwnQuestionChanged(question.author_id, question, self.merge_target(question))
            )
            if question.is_public:
                events.append(QuestionShown(question))
            elif before is not None and before.is_public:
                events.append(QuestionHidden(question.id))
            if self.highlighted == question.id and question.is_public:
                events.append(HighlightChanged(question))
        return events


def ordered(questions: list[Question], by: QueueOrder) -> list[Question]:
    """The queue as participants (by votes or time) or moderators (manual) see it."""
    if by == "time":
        return sorted(questions, key=lambda q: (q.asked_at, q.id))
    if by == "votes":
        # Answered questions sink below the open ones, which is where voters look.
        return sorted(questions, key=lambda q: (q.state == "answered", -q.votes, q.asked_at, q.id))
    return sorted(
        questions,
        key=lambda q: (
            q.position is None,
            q.position if q.position is not None else 0.0,
            not q.starred,
            -q.votes,
            q.asked_at,
            q.id,
        ),
    )
