"""Operator tooling: the local substrate, and (for dev_min) Terraform, preflight and teardown."""
