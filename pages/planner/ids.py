"""Component ids of the planner page beside :data:`pages.ids.PLANNER`: the radius check, the sites chart's
place, and the page's state as the URL carries it."""
from __future__ import annotations

from pages.ids import page_ids

PLANNER_MORE = page_ids("planner", "radius_msg", "sites_chart", "url_note")
