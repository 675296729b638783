"""Milestone reports: drafts, versions, partner sign-off, the officer's decision, reminders
(services.py, forms.py, views.py, cli.py). Builds on grants.awards; the portfolio builds on it."""
