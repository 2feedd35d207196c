"""The Redis store's attendance (a mixin of :class:`~server.backends.redis_store.RedisStore`).

Keys, under the store's prefix:

=====================================  ====  ==============================================
``attendance:viewings``                hash  viewing id → session, viewer, channel, start
                                             (JSON), written once (``HSETNX``)
``attendance:seen``                    hash  viewing id → last seen (UTC ISO; only moves on)
``attendance:ended``                   set   ids of the viewings that ended
``attendance:replays``                 hash  ``recording\\nday\\nviewer`` → played at
``attendance:breakouts``               hash  ``session\\nround\\nviewer`` → seated at
``attendance:by_viewer:<key>``         set   that viewer key's viewing ids
``attendance:replays_by_viewer:<key>`` set   that viewer key's replay fields
``attendance:breakouts_by_viewer:<k>`` set   that viewer key's participation fields
=====================================  ====  ==============================================

A key is replaced (erasure, retention) by one script, so a reader never sees half of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from sessions.attendance import (
    UNTIED_PREFIX,
    Channel,
    Participation,
    Replay,
    Viewing,
    participant_key,
    untied_key,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from server.backends.redis_store import RedisLocation

SCRIPT_BATCH = 500

_RECORD_VIEWINGS = """
local by_viewer = ARGV[1]
for i = 2, #ARGV, 5 do
  local id = ARGV[i]
  if redis.call('HSETNX', KEYS[1], id, ARGV[i + 1]) == 1 then
    redis.call('SADD', by_viewer .. ARGV[i + 2], id)
  end
  local seen = redis.call('HGET', KEYS[2], id)
  if (not seen) or seen < ARGV[i + 3] then redis.call('HSET', KEYS[2], id, ARGV[i + 3]) end
  if ARGV[i + 4] == '1' then redis.call('SADD', KEYS[3], id) end
end
return 0
"""

_RECORD_TAILED = """
local new = {}
for i = 2, #ARGV, 3 do
  local added = redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 2])
  if added == 1 then redis.call('SADD', ARGV[1] .. ARGV[i + 1], ARGV[i]) end
  new[#new + 1] = added
end
return new
"""

_REKEY = """
local old, fresh = ARGV[1], ARGV[2]
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then
    local record = cjson.decode(raw)
    record['viewer'] = fresh
    redis.call('HSET', KEYS[1], id, cjson.encode(record))
    redis.call('SADD', KEYS[3], id)
  end
end
redis.call('DEL', KEYS[2])
for group = 4, #KEYS, 3 do
  for _, field in ipairs(redis.call('SMEMBERS', KEYS[group + 1])) do
    local value = redis.call('HGET', KEYS[group], field)
    if value then
      local renamed = string.sub(field, 1, #field - #old) .. fresh
      redis.call('HDEL', KEYS[group], field)
      redis.call('HSET', KEYS[group], renamed, value)
      redis.call('SADD', KEYS[group + 2], renamed)
    end
  end
  redis.call('DEL', KEYS[group + 1])
end
return 0
"""


class _Start(msgspec.Struct, frozen=True):
    session: str
    viewer: str
    channel: Channel
    started_at: dt.datetime


_encode = msgspec.json.Encoder().encode
_decode_start = msgspec.json.Decoder(_Start).decode


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisAttendance:
    location: RedisLocation
    _redis: Redis

    def _attendance_key(self, name: str) -> str:
        return f"{self.location.prefix}attendance:{name}"

    async def record_viewings(self, viewings: Sequence[Viewing]) -> None:
        keys = [self._attendance_key(n) for n in ("viewings", "seen", "ended")]
        for first in range(0, len(viewings), SCRIPT_BATCH):
            args: list[str | bytes] = [self._attendance_key("by_viewer:")]
            for v in viewings[first : first + SCRIPT_BATCH]:
                start = _Start(v.session, v.viewer, v.channel, v.started_at.astimezone(dt.UTC))
                args += [v.id, _encode(start), v.viewer, _stamp(v.last_seen_at), str(int(v.ended))]
            await self._script(_RECORD_VIEWINGS, keys, args)

    async def record_replays(self, replays: Sequence[Replay]) -> list[bool]:
        new: list[bool] = []
        for first in range(0, len(replays), SCRIPT_BATCH):
            args: list[str | bytes] = [self._attendance_key("replays_by_viewer:")]
            for r in replays[first : first + SCRIPT_BATCH]:
                args += [_replay_field(r), r.viewer, _stamp(r.played_at)]
            added = await self._script(_RECORD_TAILED, [self._attendance_key("replays")], args)
            new += [int(a) == 1 for a in added]
        return new

    async def record_participations(self, participations: Sequence[Participation]) -> None:
        for first in range(0, len(participations), SCRIPT_BATCH):
            args: list[str | bytes] = [self._attendance_key("breakouts_by_viewer:")]
            for p in participations[first : first + SCRIPT_BATCH]:
                args += [_participation_field(p), p.viewer, _stamp(p.seated_at)]
            await self._script(_RECORD_TAILED, [self._attendance_key("breakouts")], args)

    async def list_participations(self) -> list[Participation]:
        found = []
        async for field, seated in self._redis.hscan_iter(self._attendance_key("breakouts")):
            session, round_, viewer = _text(field).split("\n", 2)
            found.append(
                Participation(session, round_, viewer, dt.datetime.fromisoformat(_text(seated)))
            )
        return found

    async def list_viewings(self) -> list[Viewing]:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._attendance_key("viewings"))
            pipe.hgetall(self._attendance_key("seen"))
            pipe.smembers(self._attendance_key("ended"))
            starts, seen, ended = await pipe.execute()
        ended_ids = {_text(i) for i in ended}
        last_seen = {_text(i): _text(s) for i, s in seen.items()}
        viewings = []
        for raw_id, raw in starts.items():
            id_ = _text(raw_id)
            start = _decode_start(raw)
            at = last_seen.get(id_)
            viewings.append(
                Viewing(
                    id=id_,
                    session=start.session,
                    viewer=start.viewer,
                    channel=start.channel,
                    started_at=start.started_at,
                    last_seen_at=dt.datetime.fromisoformat(at) if at else start.started_at,
                    ended=id_ in ended_ids,
                )
            )
        return viewings

    async def count_replays(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        async for field, _ in self._redis.hscan_iter(self._attendance_key("replays")):
            recording = _text(field).split("\n", 1)[0]
            counts[recording] = counts.get(recording, 0) + 1
        return counts

    async def forget_attendance(self, participant_id: str) -> None:
        await self._rekey(participant_key(participant_id))

    async def untie_attendance(self, before: dt.datetime) -> int:
        keys: set[str] = set()
        for viewing in await self.list_viewings():
            if viewing.started_at < before:
                keys.add(viewing.viewer)
        for name in ("replays", "breakouts"):
            async for field, at in self._redis.hscan_iter(self._attendance_key(name)):
                if dt.datetime.fromisoformat(_text(at)) < before:
                    keys.add(_text(field).split("\n", 2)[2])
        keys = {k for k in keys if not k.startswith(UNTIED_PREFIX)}
        for key in keys:
            await self._rekey(key)
        return len(keys)

    async def _rekey(self, old: str) -> None:
        fresh = untied_key()
        keys = [
            self._attendance_key("viewings"),
            self._attendance_key(f"by_viewer:{old}"),
            self._attendance_key(f"by_viewer:{fresh}"),
            self._attendance_key("replays"),
            self._attendance_key(f"replays_by_viewer:{old}"),
            self._attendance_key(f"replays_by_viewer:{fresh}"),
            self._attendance_key("breakouts"),
            self._attendance_key(f"breakouts_by_viewer:{old}"),
            self._attendance_key(f"breakouts_by_viewer:{fresh}"),
        ]
        await self._script(_REKEY, keys, [old, fresh])

    async def _script(self, source: str, keys: list[str], args: list[str | bytes]) -> Any:
        script: Any = self._redis.register_script(source)
        return await script(keys=keys, args=args)


def _participation_field(participation: Participation) -> str:
    return f"{participation.session}\n{participation.round}\n{participation.viewer}"


def _replay_field(replay: Replay) -> str:
    """Ends with the viewer key, so a key is replaced by replacing the field's tail."""
    return f"{replay.recording_id}\n{replay.day.isoformat()}\n{replay.viewer}"
