"""Each session's Q&A activity, folded from the command log.

A listener of :class:`~server.conference_log.QAService`, subscribed before it starts, so it
folds the whole log like the rest of the state: every process counts the same, and nothing
of it needs storing.
"""

from __future__ import annotations

from server.conference_log import DomainEvent, QAService
from sessions.attendance import Activity
from sessions.qa import QuestionModerated, VoteRecorded


class ActivityLedger:
    def __init__(self, service: QAService) -> None:
        self.sessions: dict[str, Activity] = {}
        service.subscribe(self.on_events)

    def of(self, code: str) -> Activity:
        return self.sessions.get(code) or Activity()

    def _activity(self, code: str) -> Activity:
        return self.sessions.setdefault(code, Activity())

    def on_events(self, _sequence: int, code: str, events: list[DomainEvent]) -> None:
        for event in events:
            match event:
                case QuestionModerated(question=question):
                    activity = self._activity(code)
                    activity.asked.add(question.id)
                    if question.state in ("visible", "answered"):
                        activity.approved.add(question.id)
                    if question.state == "answered":
                        activity.answered.add(question.id)
                case VoteRecorded(voted=True):
                    self._activity(code).votes += 1
                case _:
                    pass
