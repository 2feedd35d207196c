"""Random command sequences against the Q&A state machine, checking its invariants and that
the events it emits rebuild exactly what each audience may see."""

from __future__ import annotations

import copy
import datetime as dt

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sessions.qa import (
    Ask,
    Command,
    Configure,
    Event,
    HighlightChanged,
    Moderate,
    OwnQuestionChanged,
    QAError,
    QASession,
    Question,
    QuestionHidden,
    QuestionModerated,
    QuestionShown,
    Unvote,
    Vote,
    VotesChanged,
)

PEOPLE = st.sampled_from(["ann", "bob", "carl", "dora", "eve"])
QUESTION_IDS = st.sampled_from([f"q{n}" for n in range(6)])
ACTIONS = st.sampled_from(
    ["approve", "dismiss", "answer", "highlight", "unhighlight", "archive", "restore", "edit",
     "star", "unstar", "move"]
)  # fmt: skip
T0 = dt.datetime(2026, 5, 11, 10, tzinfo=dt.UTC)


class QAMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.qa = QASession("panel")
        self.clock = T0
        self.public: dict[str, Question] = {}
        self.public_votes: dict[str, int] = {}
        self.moderators: dict[str, Question] = {}
        self.own: dict[str, dict[str, Question]] = {}
        self.screen: Question | None = None

    def run(self, command: Command) -> list[Event]:
        self.clock += dt.timedelta(seconds=7)
        before = (copy.deepcopy(self.qa.questions), self.qa.highlighted, self.qa.settings)
        try:
            events = self.qa.apply(command, self.clock)
        except QAError:
            assert (self.qa.questions, self.qa.highlighted, self.qa.settings) == before
            return []
        for event in events:
            self.fold(event)
        return events

    def fold(self, event: Event) -> None:
        match event:
            case QuestionShown(question):
                self.public[question.id] = question
                self.public_votes[question.id] = question.votes
            case QuestionHidden(question_id):
                self.public.pop(question_id)
            case QuestionModerated(question):
                self.moderators[question.id] = question
            case OwnQuestionChanged(author, question):
                self.own.setdefault(author, {})[question.id] = question
            case VotesChanged(question_id, votes, public):
                if public:
                    self.public_votes[question_id] = votes
            case HighlightChanged(question):
                self.screen = question

    @rule(qid=QUESTION_IDS, author=PEOPLE, anonymous=st.booleans(), text=st.text(max_size=40))
    def ask(self, qid: str, author: str, anonymous: bool, text: str) -> None:
        self.run(Ask(qid, author, author.title(), text or "?", anonymous=anonymous))

    @rule(qid=QUESTION_IDS, voter=PEOPLE, up=st.booleans())
    def vote(self, qid: str, voter: str, up: bool) -> None:
        self.run(Vote(qid, voter) if up else Unvote(qid, voter))

    @rule(qid=QUESTION_IDS, action=ACTIONS, position=st.floats(0, 10))
    def moderate(self, qid: str, action: str, position: float) -> None:
        self.run(Moderate(qid, "mod", action, text=f"edited {qid}", position=position))  # type: ignore[arg-type]

    @rule(duplicate=QUESTION_IDS, into=QUESTION_IDS)
    def merge(self, duplicate: str, into: str) -> None:
        target = into
        questions = self.qa.questions
        before = (
            questions[duplicate].voters | {questions[duplicate].author_id}
            if duplicate in questions and target in questions
            else None
        )
        target_before = questions[target].voters if target in questions else frozenset()
        if self.run(Moderate(duplicate, "mod", "merge", into=target)) and before is not None:
            merged = self.qa.question(target)
            expected = (target_before | before) - {merged.author_id}
            assert merged.voters == expected
            assert merged.votes == len(expected)

    @rule(open_=st.booleans(), post=st.booleans())
    def configure(self, open_: bool, post: bool) -> None:
        self.run(Configure("mod", open=open_, moderation="post" if post else "pre"))

    @invariant()
    def at_most_one_highlight_and_it_is_open(self) -> None:
        highlighted = self.qa.highlighted_question()
        if highlighted is not None:
            assert highlighted.state == "visible"
        shown = (self.screen.id, self.screen.text) if self.screen else None
        assert shown == ((highlighted.id, highlighted.text) if highlighted else None)

    @invariant()
    def votes_never_double_count_or_include_the_author(self) -> None:
        for question in self.qa.questions.values():
            assert question.author_id not in question.voters
            assert question.votes == len(set(question.voters))

    @invariant()
    def each_audience_sees_exactly_its_share(self) -> None:
        questions = self.qa.questions
        assert {q.id for q in self.public.values()} == {q.id for q in self.qa.public_questions()}
        for qid, question in self.public.items():
            assert question.text == questions[qid].text
            assert self.public_votes[qid] == questions[qid].votes
        assert {k: v.state for k, v in self.moderators.items()} == {
            k: v.state for k, v in questions.items()
        }
        for author, mine in self.own.items():
            assert set(mine) == {q.id for q in self.qa.own_questions(author)}


QAMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestQAMachine = QAMachine.TestCase
