"""The KPIs the service computes (service/kpis.py), by name: what targets, plans and reviews may name."""

# Scalar KPIs, in the order reports show them. Each is defined in docs/kpis.md.
KPI_NAMES = (
    "volume",
    "first_responses",
    "first_response_mean_seconds",
    "first_response_p50_seconds",
    "first_response_p90_seconds",
    "first_response_on_time_rate",
    "responses",
    "response_mean_seconds",
    "handled",
    "handling_mean_seconds",
    "handling_p50_seconds",
    "handling_p90_seconds",
    "dismissed",
    "resolution_rate",
    "satisfaction_responses",
    "satisfaction_mean_score",
    "satisfied_share",
    "reopen_rate",
    "breach_rate",
)
