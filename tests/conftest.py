"""Shared fixtures: the five seed articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedup import Document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="session")
def seed_docs() -> list[Document]:
    """The five seeds as documents, id = file stem."""
    return [Document(p.stem, p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]
