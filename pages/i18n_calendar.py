"""Labels of the holiday calendar (merged into pages.i18n.TEXT)."""
from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "calendar.statutory": {"zh": "{year} 年放假安排尚未公布，按法定节假日计算",
                           "en": "The {year} holiday schedule is not yet published; statutory holidays applied"},
}


def statutory_note(year: int, lang: str) -> str:
    """What the card says when ``year`` has no published notice (Chinese for an unknown language)."""
    entry = TEXT["calendar.statutory"]
    return (entry.get(lang) or entry["zh"]).format(year=year)
