"""Connection negotiation: the sans-IO machine and its Twisted protocol."""
