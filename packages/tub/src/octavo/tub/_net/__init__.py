"""The network: identity (certificates), connection hints, connectors and listeners."""
