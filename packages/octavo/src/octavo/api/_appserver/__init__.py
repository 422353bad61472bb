"""The application server behind ``octavo-server`` (Foolscap's ``flappserver``)."""
