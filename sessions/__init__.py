"""The conference domain: programme, roles, Q&A, break-outs and stream delivery.

Pure Python: no I/O, no clock. Functions take ``now`` and return values or events.
"""
