"""The applications blueprint: applicant pages (views.py), collaboration and documents
(collaboration_views.py), and the program officers' intake (intake_views.py)."""

from flask import Blueprint

bp = Blueprint("applications", __name__)
