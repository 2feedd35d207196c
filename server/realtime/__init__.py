"""The WebSocket at /ws: the hub (encode once, fan out), the socket protocol, and the topics
with their snapshots and event routing."""
