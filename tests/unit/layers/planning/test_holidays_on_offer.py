"""The planner's holiday picker in December 2026: the coming holidays (of a year not yet published) come first."""
from __future__ import annotations

import datetime as dt

from layers.planning.dates import default_holiday, holidays_on_offer

DECEMBER = dt.date(2026, 12, 2)


def test_coming_holidays_first_then_the_past_ones_most_recent_first():
    blocks = holidays_on_offer(DECEMBER)
    assert (blocks[0].key, blocks[0].first) == ("New Year's Day", dt.date(2027, 1, 1))
    assert (blocks[1].key, blocks[1].first) == ("Spring Festival", dt.date(2027, 2, 5))
    coming = [b for b in blocks if b.last >= DECEMBER]
    past = [b for b in blocks if b.last < DECEMBER]
    assert list(blocks) == coming + past
    assert [b.first for b in coming] == sorted(b.first for b in coming)
    assert past[0].key == "National Day" and past[0].first == dt.date(2026, 10, 1)
    assert default_holiday(DECEMBER).first == dt.date(2027, 2, 5)  # the next long one


def test_the_picker_lists_new_years_day_2027_first(dash_app):
    from pages.planner.layout import holiday_options  # registers the page: after the app (dash_app)

    options = holiday_options("zh", DECEMBER)
    assert options[0] == {"label": "元旦 2027-01-01–01-01", "value": "2027-01-01"}
    assert options[1]["label"].startswith("春节 2027-02-05")
