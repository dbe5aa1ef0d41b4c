"""Shared fixtures: one isolated Bob per test session (spawning a process costs about a second)."""

from __future__ import annotations

import pytest

from protocols.game import IsolatedBob


@pytest.fixture(scope="session")
def isolated_bob():
    with IsolatedBob() as bob:
        yield bob
