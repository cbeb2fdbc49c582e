"""The conformance suite: every law and port contract, checked once, for any environment."""
