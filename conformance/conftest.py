"""``pytest conformance --env NAME``: the same check list as ``fp conformance``, one test per check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fp_conformance.context import ConformanceContext


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--env", default="local_parity", help="environment whose adapter set is checked")


@pytest.fixture(scope="session")
def conformance_ctx(request: pytest.FixtureRequest) -> Iterator[ConformanceContext]:
    env = request.config.getoption("--env")
    if env in ("local_parity", "dev_min"):  # the built-in sets run on (or emulate against) the local substrate
        from fp_ops import substrate

        substrate.up()
    with ConformanceContext.open(env) as ctx:
        yield ctx
