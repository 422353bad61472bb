"""The PB protocol without I/O: messages, references, calls and their codec.

Nothing here imports Twisted: bytes go in, events come out, and commands return
the bytes to send (see ``_connection``).
"""
