"""fraud-platform pure domain core: the platform's laws, models and ports.

Nothing here performs I/O, reads the environment or the wall clock; those arrive through ports.
"""
