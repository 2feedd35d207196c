"""Where publications and viewers go among media nodes, from their heartbeats."""

from __future__ import annotations

import datetime as dt

import msgspec

from server.media.cluster import PLACED_HEADER, RELAY_HEADER, internal_header, node_of_header
from server.media.placement import (
    CPU_SHARE_PERCENT,
    CarriedRoom,
    CarriedStream,
    MemberCall,
    NodeLoad,
    NodeRecord,
    RoomCall,
    member_node,
    origin,
    place_booth,
    place_publication,
    place_room,
    place_viewer,
    room_node,
    started_at,
)

STARTED = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def node(
    node_id: str,
    cpu: float = 10.0,
    viewers: int = 0,
    streams: tuple[CarriedStream, ...] = (),
    max_viewers: int = 0,
) -> NodeRecord:
    load = NodeLoad(publications=len(streams), viewers=viewers, cpu_percent=cpu)
    return NodeRecord(node_id, f"http://{node_id}", load, streams, max_viewers=max_viewers)


def published(viewers: int = 0) -> CarriedStream:
    return CarriedStream("panel", origin=True, started_at=STARTED, viewers=viewers)


def relayed(viewers: int = 0) -> CarriedStream:
    return CarriedStream("panel", origin=False, started_at=STARTED, viewers=viewers)


def test_a_publication_goes_to_the_emptiest_node() -> None:
    nodes = [node("a", cpu=50), node("b", cpu=5), node("c", cpu=5, viewers=3)]
    chosen = place_publication(nodes)
    assert chosen is not None and chosen.id == "b"
    assert place_publication([]) is None


def test_nothing_is_placed_for_a_panel_nobody_publishes() -> None:
    assert place_viewer([node("a"), node("b", streams=(relayed(),))], "panel") is None
    assert started_at([node("a")], "panel") is None


def test_viewers_stay_on_the_origin_until_it_reaches_its_share() -> None:
    nodes = [node("a", cpu=40, streams=(published(),)), node("b", cpu=1)]
    placed = place_viewer(nodes, "panel")
    assert placed is not None and placed.node.id == "a" and not placed.relay


def test_a_full_origin_sends_the_next_viewer_to_a_node_that_pulls_one_relay() -> None:
    nodes = [node("a", cpu=CPU_SHARE_PERCENT, streams=(published(),)), node("b", cpu=30)]
    placed = place_viewer(nodes, "panel")
    assert placed is not None and placed.node.id == "b" and placed.relay


def test_a_node_already_relaying_is_preferred_to_pulling_another_relay() -> None:
    nodes = [
        node("a", cpu=90, streams=(published(),)),
        node("b", cpu=50, streams=(relayed(),)),
        node("c", cpu=1),
    ]
    placed = place_viewer(nodes, "panel")
    assert placed is not None and placed.node.id == "b" and not placed.relay


def test_a_viewer_cap_counts_as_full() -> None:
    nodes = [node("a", viewers=10, max_viewers=10, streams=(published(),)), node("b")]
    placed = place_viewer(nodes, "panel")
    assert placed is not None and placed.node.id == "b" and placed.relay


def test_when_every_node_is_full_the_least_loaded_carrier_still_serves() -> None:
    nodes = [
        node("a", cpu=99, streams=(published(),)),
        node("b", cpu=80, streams=(relayed(),)),
        node("c", cpu=95),
    ]
    placed = place_viewer(nodes, "panel")
    assert placed is not None and placed.node.id == "b" and not placed.relay


def test_the_panel_started_when_its_origin_says() -> None:
    nodes = [node("b", streams=(relayed(viewers=10),)), node("a", streams=(published(),))]
    assert started_at(nodes, "panel") == STARTED
    found = origin(nodes, "panel")
    assert found is not None and found.id == "a"


def test_cpu_readings_within_a_step_count_as_equal_and_what_nodes_carry_decides() -> None:
    nodes = [node("a", cpu=4, streams=(published(),)), node("b", cpu=8)]
    chosen = place_publication(nodes)
    assert chosen is not None and chosen.id == "b"


def room(name: str, *members: str) -> CarriedRoom:
    return CarriedRoom(
        "panel", name, RoomCall({m: MemberCall(("audio", "video")) for m in members})
    )


def test_a_new_room_goes_whole_to_the_emptiest_node_with_room_for_it() -> None:
    nodes = [node("a", cpu=CPU_SHARE_PERCENT), node("b", cpu=30, viewers=12), node("c", cpu=31)]
    chosen = place_room(nodes, "panel", "room-1")
    assert chosen is not None and chosen.id == "c", "a and b are full or busier"
    every_full = [node("a", cpu=90), node("b", cpu=CPU_SHARE_PERCENT)]
    chosen = place_room(every_full, "panel", "room-1")
    assert chosen is not None and chosen.id == "b"
    assert place_room([], "panel", "room-1") is None


def test_members_follow_their_room_to_its_node_even_when_it_is_full() -> None:
    busy = msgspec.structs.replace(node("a", cpu=95), rooms=(room("room-1", "ann", "bob"),))
    nodes = [busy, node("b", cpu=1)]
    chosen = place_room(nodes, "panel", "room-1")
    assert chosen is not None and chosen.id == "a"
    other = place_room(nodes, "panel", "room-2")
    assert other is not None and other.id == "b"
    assert member_node(nodes, "panel", "room-1", "bob") is busy
    assert member_node(nodes, "panel", "room-1", "cyd") is None
    assert member_node(nodes, "other", "room-1", "bob") is None


def test_a_room_split_by_a_race_goes_on_where_most_of_its_members_are() -> None:
    nodes = [
        msgspec.structs.replace(node("a"), rooms=(room("room-1", "ann"),)),
        msgspec.structs.replace(node("b"), rooms=(room("room-1", "bob", "cyd"),)),
    ]
    chosen = room_node(nodes, "panel", "room-1")
    assert chosen is not None and chosen.id == "b"
    assert room_node(nodes, "panel", "room-2") is None


def test_records_with_rooms_survive_the_registry_encoding() -> None:
    record = msgspec.structs.replace(node("a"), rooms=(room("room-1", "ann"),))
    decoded = msgspec.json.decode(msgspec.json.encode(record), type=NodeRecord)
    assert decoded == record
    assert decoded.carries_room("panel", "room-1") == room("room-1", "ann")


def test_internal_headers_are_signed_with_the_conference_key() -> None:
    secret, other = b"k" * 32, b"o" * 32
    placed = internal_header(secret, PLACED_HEADER, "w1")
    assert node_of_header(secret, PLACED_HEADER, placed) == "w1"
    assert node_of_header(other, PLACED_HEADER, placed) is None, "another conference's key"
    assert node_of_header(secret, RELAY_HEADER, placed) is None, "not valid as another header"
    assert node_of_header(secret, PLACED_HEADER, "w1") is None, "sent by a client"
    assert node_of_header(secret, PLACED_HEADER, placed.replace("w1", "w2")) is None
    assert node_of_header(secret, PLACED_HEADER, None) is None


def test_a_new_booth_goes_where_the_floor_is_published_while_it_has_room() -> None:
    floor = node("a", cpu=30, streams=(published(),))
    nodes = [floor, node("b", cpu=1)]
    chosen = place_booth(nodes, "panel", "booth:fr")
    assert chosen is floor, "the floor's node records the channel too"
    full_floor = [node("a", cpu=95, streams=(published(),)), node("b", cpu=1)]
    chosen = place_booth(full_floor, "panel", "booth:fr")
    assert chosen is not None and chosen.id == "b"
    booth_elsewhere = [floor, msgspec.structs.replace(node("b"), rooms=(room("booth:fr", "anne"),))]
    chosen = place_booth(booth_elsewhere, "panel", "booth:fr")
    assert chosen is not None and chosen.id == "b", "a booth in use stays where it is"
    chosen = place_booth([node("a", cpu=40), node("b", cpu=1)], "panel", "booth:fr")
    assert chosen is not None and chosen.id == "b", "no floor yet: the emptiest"
