"""Shared fixtures: one isolated Bob per test session (spawning a process costs about a second)."""

from __future__ import annotations

import pytest
from hypothesis import settings

from protocols.game import IsolatedBob

# Property tests draw their examples from a fixed seed: the suite gives the same verdict on
# every run and machine (hypothesis still shrinks any failure it finds).
settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")


@pytest.fixture(scope="session")
def isolated_bob():
    with IsolatedBob() as bob:
        yield bob
