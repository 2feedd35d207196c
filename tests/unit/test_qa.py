from __future__ import annotations

import datetime as dt

import pytest

from sessions.qa import (
    MAX_TEXT,
    AddNote,
    Ask,
    Configure,
    HighlightChanged,
    Moderate,
    ModerationAction,
    NoteAdded,
    OwnQuestionChanged,
    QAError,
    QASession,
    QuestionHidden,
    QuestionModerated,
    QuestionShown,
    SettingsChanged,
    Unvote,
    Vote,
    VotesChanged,
    ordered,
)

T0 = dt.datetime(2026, 5, 11, 10, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def ask(qa: QASession, qid: str, author: str = "ann", text: str = "Why?", **kw: object) -> None:
    qa.apply(Ask(qid, author, author.title(), text, **kw), at(len(qa.questions) * 30))  # type: ignore[arg-type]


def moderate(qa: QASession, qid: str, action: ModerationAction, **kw: object) -> list[object]:
    return list(qa.apply(Moderate(qid, "mod", action, **kw), at(1000)))  # type: ignore[arg-type]


def error_code(qa: QASession, command: object, now: dt.datetime = T0) -> str:
    with pytest.raises(QAError) as raised:
        qa.apply(command, now)  # type: ignore[arg-type]
    return raised.value.code


def test_pre_moderation_keeps_new_questions_from_the_public() -> None:
    qa = QASession("panel")
    events = qa.apply(Ask("q1", "ann", "Ann", "  What   about\n\n\n\nheat? "), T0)
    question = qa.question("q1")
    assert question.state == "pending"
    assert question.text == "What about\n\nheat?"
    assert not any(isinstance(e, QuestionShown) for e in events)
    assert any(isinstance(e, QuestionModerated) for e in events)
    assert OwnQuestionChanged("ann", question) in events
    assert qa.public_questions() == []

    shown = moderate(qa, "q1", "approve")
    assert QuestionShown(qa.question("q1")) in shown
    assert [q.id for q in qa.public_questions()] == ["q1"]


def test_post_moderation_shows_questions_at_once_and_dismiss_hides_them() -> None:
    qa = QASession("panel")
    assert qa.apply(Configure("mod", moderation="post"), T0) == [SettingsChanged(qa.settings)]
    ask(qa, "q1")
    assert qa.question("q1").state == "visible"
    events = moderate(qa, "q1", "dismiss")
    assert QuestionHidden("q1") in events
    assert qa.own_questions("ann")[0].state == "dismissed"


def test_closed_qa_refuses_questions() -> None:
    qa = QASession("panel")
    qa.apply(Configure("mod", open=False), T0)
    assert error_code(qa, Ask("q1", "ann", "Ann", "Hello?")) == "qa.closed"
    assert qa.apply(Configure("mod", open=False), T0) == []


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "qa.question_empty"), ("   \n ", "qa.question_empty"),
     ("x" * (MAX_TEXT + 1), "qa.question_too_long"), ("bell\x07", "qa.question_invalid")],
)  # fmt: skip
def test_question_text_is_validated(text: str, code: str) -> None:
    assert error_code(QASession("p"), Ask("q1", "ann", "Ann", text)) == code


def test_exactly_500_characters_is_accepted() -> None:
    qa = QASession("p")
    qa.apply(Ask("q1", "ann", "Ann", "x" * MAX_TEXT), T0)
    assert len(qa.question("q1").text) == MAX_TEXT


def test_three_questions_a_minute_per_participant() -> None:
    qa = QASession("p")
    for n in range(3):
        qa.apply(Ask(f"q{n}", "ann", "Ann", "Hm?"), at(n))
    assert error_code(qa, Ask("q3", "ann", "Ann", "Hm?"), at(10)) == "qa.rate_limited"
    qa.apply(Ask("q4", "bob", "Bob", "Hm?"), at(10))
    qa.apply(Ask("q5", "ann", "Ann", "Hm?"), at(60))
    assert "q3" not in qa.questions


def test_votes_are_one_per_participant_and_can_be_withdrawn() -> None:
    qa = QASession("p")
    ask(qa, "q1")
    moderate(qa, "q1", "approve")
    assert error_code(qa, Vote("q1", "ann")) == "qa.own_question"
    events = qa.apply(Vote("q1", "bob"), T0)
    assert VotesChanged("q1", 1, public=True) in events
    assert not any(isinstance(e, VotesChanged) for e in qa.apply(Vote("q1", "bob"), T0))
    assert qa.question("q1").votes == 1
    qa.apply(Unvote("q1", "bob"), T0)
    assert qa.question("q1").votes == 0
    assert not any(isinstance(e, VotesChanged) for e in qa.apply(Unvote("q1", "bob"), T0))


def test_only_open_questions_take_votes() -> None:
    qa = QASession("p")
    ask(qa, "q1")
    assert error_code(qa, Vote("q1", "bob")) == "qa.not_votable"
    assert error_code(qa, Vote("nope", "bob")) == "qa.question_unknown"


def test_sixty_votes_a_minute() -> None:
    qa = QASession("p")
    qa.apply(Configure("mod", moderation="post"), T0)
    for n in range(61):
        qa.apply(Ask(f"q{n}", f"author{n}", "A", "Hm?"), T0)
    for n in range(60):
        qa.apply(Vote(f"q{n}", "bob"), at(n / 10))
    assert error_code(qa, Vote("q60", "bob"), at(7)) == "qa.rate_limited"
    qa.apply(Vote("q60", "bob"), at(61))


def test_one_highlight_at_a_time_and_it_leaves_with_its_question() -> None:
    qa = QASession("p")
    for qid in ("q1", "q2"):
        ask(qa, qid)
    assert error_code(qa, Moderate("q1", "mod", "highlight")) == "qa.invalid_state"
    moderate(qa, "q1", "approve")
    moderate(qa, "q2", "approve")
    assert moderate(qa, "q1", "highlight") == [HighlightChanged(qa.question("q1"))]
    moderate(qa, "q2", "highlight")
    assert qa.highlighted == "q2"
    events = moderate(qa, "q2", "answer")
    assert HighlightChanged(None) in events
    assert qa.highlighted == ""
    assert qa.question("q2").answered_at == at(1000)


def test_edit_keeps_the_original_text() -> None:
    qa = QASession("p")
    ask(qa, "q1", text="Waht about heat?")
    moderate(qa, "q1", "edit", text="What about heat?")
    question = qa.question("q1")
    assert question.text == "What about heat?"
    assert [r.text for r in question.history] == ["Waht about heat?"]
    assert moderate(qa, "q1", "edit", text="What about heat?") == []


def test_merge_unions_votes_without_double_counting() -> None:
    qa = QASession("p")
    qa.apply(Configure("mod", moderation="post"), T0)
    ask(qa, "q1", author="ann")
    ask(qa, "q2", author="bob")
    for voter in ("carl", "dora"):
        qa.apply(Vote("q1", voter), T0)
    for voter in ("dora", "ann", "eve"):
        qa.apply(Vote("q2", voter), T0)
    events = moderate(qa, "q2", "merge", into="q1")
    target = qa.question("q1")
    assert target.voters == {"carl", "dora", "eve", "bob"}
    assert VotesChanged("q1", 4, public=True) in events
    assert qa.question("q2").state == "archived"
    assert qa.question("q2").merged_into == "q1"
    assert QuestionHidden("q2") in events
    assert error_code(qa, Moderate("q2", "mod", "approve")) == "qa.merged"
    assert error_code(qa, Moderate("q1", "mod", "merge", into="q1")) == "qa.merge_self"
    assert error_code(qa, Moderate("q1", "mod", "merge", into="q2")) == "qa.invalid_state"


@pytest.mark.parametrize(
    ("start", "action", "allowed"),
    [
        ("pending", "approve", True), ("visible", "approve", False),
        ("answered", "dismiss", False), ("dismissed", "approve", True),
        ("archived", "restore", True), ("visible", "restore", False),
        ("archived", "archive", False), ("pending", "answer", True),
    ],
)  # fmt: skip
def test_state_transitions(start: str, action: ModerationAction, allowed: bool) -> None:
    qa = QASession("p")
    ask(qa, "q1")
    setup: dict[str, list[ModerationAction]] = {
        "pending": [], "visible": ["approve"], "answered": ["answer"],
        "dismissed": ["dismiss"], "archived": ["archive"],
    }  # fmt: skip
    for step in setup[start]:
        moderate(qa, "q1", step)
    assert qa.question("q1").state == start
    if allowed:
        moderate(qa, "q1", action)
    else:
        assert error_code(qa, Moderate("q1", "mod", action)) == "qa.invalid_state"


def test_queue_orders() -> None:
    qa = QASession("p")
    qa.apply(Configure("mod", moderation="post"), T0)
    for qid in ("q1", "q2", "q3"):
        ask(qa, qid, author=qid)
    qa.apply(Vote("q3", "x"), T0)
    qa.apply(Vote("q3", "y"), T0)
    qa.apply(Vote("q2", "x"), T0)
    questions = list(qa.questions.values())
    assert [q.id for q in ordered(questions, "time")] == ["q1", "q2", "q3"]
    assert [q.id for q in ordered(questions, "votes")] == ["q3", "q2", "q1"]
    moderate(qa, "q1", "move", position=1.0)
    moderate(qa, "q2", "star")
    questions = list(qa.questions.values())
    assert [q.id for q in ordered(questions, "manual")] == ["q1", "q2", "q3"]


def test_backstage_notes_go_to_moderators_only() -> None:
    qa = QASession("p")
    events = qa.apply(AddNote("n1", "mod", "Mo", "Next: take q3"), T0)
    assert events == [NoteAdded(qa.notes[0])]
    assert error_code(qa, AddNote("n2", "mod", "Mo", " ")) == "qa.note_empty"


def test_anonymous_questions_hide_the_author_from_the_public() -> None:
    qa = QASession("p")
    ask(qa, "q1", author="ann", anonymous=True)
    question = qa.question("q1")
    assert question.public_author == "Anonymous"
    assert question.author_name == "Ann"


def test_refused_commands_change_nothing() -> None:
    qa = QASession("p")
    ask(qa, "q1")
    before = dict(qa.questions)
    error_code(qa, Ask("q1", "bob", "Bob", "dup id"))
    error_code(qa, Moderate("q1", "mod", "edit", text=""))
    assert qa.questions == before


def test_answered_questions_sink_below_unanswered_ones_by_votes() -> None:
    qa = QASession("p")
    qa.apply(Configure("mod", moderation="post"), T0)
    for qid in ("q1", "q2", "q3"):
        ask(qa, qid, author=qid)
    for voter in ("x", "y", "z"):
        qa.apply(Vote("q1", voter), T0)
    qa.apply(Vote("q2", "x"), T0)
    moderate(qa, "q1", "answer")
    assert [q.id for q in ordered(qa.public_questions(), "votes")] == ["q2", "q3", "q1"]


def test_the_author_of_a_merged_question_learns_which_question_took_it() -> None:
    qa = QASession("p")
    ask(qa, "q1", author="ann", text="Who pays for the trees?")
    ask(qa, "q2", author="bob", text="Who pays for shade?")
    events = moderate(qa, "q2", "merge", into="q1")
    assert OwnQuestionChanged("bob", qa.question("q2"), qa.question("q1")) in events
    assert qa.merge_target(qa.question("q2")) == qa.question("q1")
    assert qa.merge_target(qa.question("q1")) is None
