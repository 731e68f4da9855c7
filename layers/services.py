"""The services one running app shares: settings, the store, the station catalogue, the planning context.

``app.py`` builds them once and hangs them on the Flask server; the API and the pages find them
there with :func:`services_of`.
"""
from __future__ import annotations

from dataclasses import dataclass

from layers.planning.context import PlanningContext
from layers.rider.catalogue import StationCatalogue
from mapdata.config import Settings
from mapdata.store import Store

#: The key of the services in the Flask server's ``extensions``.
EXTENSION = "nuanxin"


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    stations: StationCatalogue
    planning: PlanningContext


def services_of(server) -> Services:
    """The services of a Flask server (anything with an ``extensions`` mapping)."""
    return server.extensions[EXTENSION]
