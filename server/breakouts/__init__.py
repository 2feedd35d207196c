"""Break-out rooms: the API, the room page, events to sockets, presence."""
