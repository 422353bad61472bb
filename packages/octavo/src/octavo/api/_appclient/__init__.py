"""The ``octavo-client`` command (Foolscap's ``flappclient``)."""
