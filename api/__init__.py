"""The JSON API: routes only. Each area is one blueprint whose routes carry their OpenAPI description."""
from __future__ import annotations

from flask import Flask

from api import calendar, coverage, national_jobs, open311, openapi, posters, reports, rider_reports, staff, stations
from api.errors import register_error_handlers

BLUEPRINTS = (stations.bp, staff.bp, coverage.bp, reports.bp, posters.bp, rider_reports.bp, open311.bp, calendar.bp,
              national_jobs.bp, openapi.bp)


def register(server: Flask) -> None:
    """Mount every API blueprint on ``server``, with JSON errors for every /api path."""
    for bp in BLUEPRINTS:
        server.register_blueprint(bp)
    register_error_handlers(server)
