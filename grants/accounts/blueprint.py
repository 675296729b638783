"""The accounts blueprint; its views live in views.py (self-service) and admin_views.py."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)
