"""Twisted glue for one PB connection: the Broker protocol and what it needs
around it (keepalives, TLS writes, loopback connections, copied failures)."""
