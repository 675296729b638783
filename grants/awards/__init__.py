"""Awards: decisions, award offers and acceptance, amendments, milestones, outcome targets and
payments (payments.py). Knows nothing of reports or the portfolio above it."""
