"""The rider page's labels for riders' reports (merged into :data:`pages.i18n.TEXT`); keys start with ``rider.report``."""
from __future__ import annotations

from mapdata.vocabulary import REPORT_KINDS, REPORT_STATE_NAMES

TEXT: dict[str, dict[str, str]] = {
}
for _k in REPORT_KINDS:
    TEXT[f"report.kind.{_k.key}"] = {"zh": _k.zh, "en": _k.en}
for _s, (_zh, _en) in REPORT_STATE_NAMES.items():
    TEXT[f"report.state.{_s}"] = {"zh": _zh, "en": _en}
