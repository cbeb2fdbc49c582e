"""Adapters: thin translations of the core ports onto each substrate, and the DI wiring per env."""
