"""Shared fixtures: one sandboxed players object per test session (its fork server starts once)."""

from __future__ import annotations

import pytest
from hypothesis import settings

from protocols.sandbox import SandboxedPlayers

# Property tests draw their examples from a fixed seed: the suite gives the same verdict on
# every run and machine (hypothesis still shrinks any failure it finds).
settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")


@pytest.fixture(scope="session")
def isolated_bob():
    """Alice and Bob, every call in a fresh sandboxed process (:class:`protocols.sandbox.SandboxedPlayers`)."""
    with SandboxedPlayers() as players:
        yield players
