"""The running app's services, as the pages and their callbacks reach them (inside a request)."""
from __future__ import annotations

from flask import current_app

from layers.services import Services, services_of


def services() -> Services:
    return services_of(current_app)
