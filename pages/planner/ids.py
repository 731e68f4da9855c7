"""Component ids of the planner page beside :data:`pages.ids.PLANNER`: the radius check, the sites chart's
place, the page's state as the URL carries it, and the national coverage job."""
from __future__ import annotations

from pages.ids import page_ids

PLANNER_MORE = page_ids("planner", "radius_msg", "sites_chart", "url_note")
#: The national coverage job's section: the file picker, start, progress, cancel and the result's link.
NATIONAL = page_ids("planner-national", "section", "picker", "start", "post", "texts", "job", "cancelled", "poll",
                    "msg", "status", "bar", "cancel", "download")
