"""Alerts: routing, Jinja2 rendering, the Apprise outbox sender."""
