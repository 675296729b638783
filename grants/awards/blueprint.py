"""The awards blueprint: decisions, awards and their milestones and payments
(grants.awards.views); milestone reports (grants.reports.views) and the portfolio
(grants.portfolio.views) register their routes on it too, so every endpoint keeps its
``awards.`` name."""

from flask import Blueprint

bp = Blueprint("awards", __name__)
