"""The portfolio, read only: figures across awards (queries.py), SVG charts (charts.py), the
officer's and the grantee's dashboards and the CSV export (views.py)."""
