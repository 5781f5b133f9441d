"""Wire encoders: pure functions and small caches from finished spans to bytes.

``thrift_compact`` (the agent's UDP datagrams) and ``thrift_binary`` (the collector's HTTP
body) write Jaeger's Thrift structs by hand, ``thrift_accel`` lets thrift's C extension
write pieces of spans, ``thrift_varints`` writes varints (a batch's at once through it),
``thrift_batch`` assembles messages and the Process, and ``common`` holds what they share.
Nothing here does I/O; the senders do.
"""
