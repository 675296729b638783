"""The reviews blueprint: panels, assignments and conflicts (views.py), scoring (scoring_views.py)."""

from flask import Blueprint

bp = Blueprint("reviews", __name__)
