"""Who reviews quality checks (质检): enabled quality reviewers, else supervisors."""

from __future__ import annotations

from typing import cast

from temporalio.client import Client

from service.directory import Directory
from service.quality import QualityChecks, QualityConfig
from service.settings import parse_users


async def test_a_configured_reviewer_the_directory_disabled_reviews_nothing(read_model):
    configured = parse_users("quinn:quality:quinn-token-0123456789,sam:supervisor:sam-token-0123456789")
    checks = QualityChecks(cast(Client, None), read_model, QualityConfig("queue"), configured)  # reviewers need no Temporal
    assert await checks.reviewers() == ["quinn"]
    directory = Directory(read_model)
    await directory.add("quinn", "quality", None)
    await directory.disable("quinn")
    assert await checks.reviewers() == ["sam"]
