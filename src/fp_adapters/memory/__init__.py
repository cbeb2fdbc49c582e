"""The declared in-memory adapter set (``--env memory``): every port kept in process memory with the
same contracts as the real adapters, certified by the same conformance suite."""
