"""The awards blueprint: decisions, awards and their milestones and payments (views.py);
milestone reports and the portfolio dashboard (reporting_views.py)."""

from flask import Blueprint

bp = Blueprint("awards", __name__)
