"""The staff page's labels for riders' reports (merged into :data:`pages.i18n.TEXT`); keys start with ``staff.reports``."""
from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
}
