"""Weights as a page shows them: one decimal, adding up to 100."""

from __future__ import annotations

import pytest

from states.assessment import shown_percentages


@pytest.mark.parametrize(
    ("shares", "shown"),
    [
        ({"kpi": 0.375, "quality": 0.375, "satisfaction": 0.25}, {"kpi": 37.5, "quality": 37.5, "satisfaction": 25.0}),
        ({"kpi": 1 / 3, "quality": 1 / 3, "supervisor": 1 / 3}, {"kpi": 33.4, "quality": 33.3, "supervisor": 33.3}),
        ({"kpi": 0.3 / 0.7, "satisfaction": 0.2 / 0.7, "supervisor": 0.2 / 0.7}, {"kpi": 42.8, "satisfaction": 28.6, "supervisor": 28.6}),
        ({}, {}),
    ],
)
def test_weights_shown_add_up_to_a_hundred(shares, shown):
    result = shown_percentages(shares)
    assert result == shown and (not shares or round(sum(result.values()), 1) == 100.0)
