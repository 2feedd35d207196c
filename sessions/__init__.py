"""The conference domain: programme, roles and (later) Q&A and break-outs.

Pure Python: no I/O, no clock. Functions take ``now`` and return values or events.
"""
