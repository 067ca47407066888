"""Fixtures of the fault-injection tests (the helpers live in faultlib.py)."""

from __future__ import annotations

import pytest
from faultlib import Program


@pytest.fixture
def program(tmp_path) -> Program:
    return Program(tmp_path)
