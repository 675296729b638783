"""The WSGI entry point: `gunicorn wsgi:app`, or `flask --app wsgi run` for development."""

from grants import create_app

app = create_app()
