"""The ``octavo-log`` command line tool (Foolscap's ``flogtool``)."""
