"""What a programme (re-)import changes, computed without touching any store.

Sessions are matched by ``guid``; a session missing from the new programme is *removed*
(the store keeps it, so its questions and recordings stay linked), never deleted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sessions.programme import Programme, Session


@dataclass(frozen=True, slots=True)
class SessionAdded:
    session: Session


@dataclass(frozen=True, slots=True)
class SessionChanged:
    before: Session
    after: Session
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SessionRemoved:
    session: Session


@dataclass(frozen=True, slots=True)
class ProgrammeChanges:
    added: tuple[SessionAdded, ...] = ()
    changed: tuple[SessionChanged, ...] = ()
    removed: tuple[SessionRemoved, ...] = ()
    conference_changed: bool = False
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.conference_changed)

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {self.unchanged} unchanged"
        )
        if self.conference_changed:
            text += "; conference details updated"
        return text


def changed_fields(before: Session, after: Session) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in dataclasses.fields(Session)
        if getattr(before, f.name) != getattr(after, f.name)
    )


def compare(old: Programme | None, new: Programme) -> ProgrammeChanges:
    old_by_guid = {s.guid: s for s in old.sessions} if old else {}
    new_guids = {s.guid for s in new.sessions}
    added: list[SessionAdded] = []
    changed: list[SessionChanged] = []
    unchanged = 0
    for session in new.sessions:
        before = old_by_guid.get(session.guid)
        if before is None:
            added.append(SessionAdded(session))
            continue
        fields = changed_fields(before, session)
        if fields:
            changed.append(SessionChanged(before, session, fields))
        else:
            unchanged += 1
    removed = tuple(SessionRemoved(s) for s in old_by_guid.values() if s.guid not in new_guids)
    conference_changed = old is None or (
        (old.conference, old.days, old.rooms) != (new.conference, new.days, new.rooms)
    )
    return ProgrammeChanges(
        added=tuple(added),
        changed=tuple(changed),
        removed=removed,
        conference_changed=conference_changed,
        unchanged=unchanged,
    )
