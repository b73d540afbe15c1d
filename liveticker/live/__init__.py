"""Live delivery: every reader-visible change reaches open pages within a second.

`hub` fans events out to the Server-Sent-Events connections of this process, `stream` is
the SSE endpoint, `bus` carries committed events between processes (Redis) or within one.
"""
