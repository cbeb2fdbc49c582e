"""Thin entrypoints: parse arguments, build the container, run a loop. No logic lives here."""
