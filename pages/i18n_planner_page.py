"""Labels of the planner page's radius check, chart axes, site list and shared views (merged into pages.i18n.TEXT)."""
from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "planner.radius_custom.unit": {"zh": "米（{lo}–{hi}）", "en": "metres ({lo}–{hi})"},
    "planner.radius.out_of_range": {"zh": "半径须在 {lo}–{hi} 米之间，仍按 {m} 米计算",
                                    "en": "The reach must be {lo}–{hi} m; the figures still use {m} m"},
    "planner.radius.missing": {"zh": "请输入 {lo}–{hi} 米的半径，仍按 {m} 米计算",
                               "en": "Enter a reach of {lo}–{hi} m; the figures still use {m} m"},
    "planner.radius.applied": {"zh": "按 {m} 米计算", "en": "Figures use {m} m"},
    "planner.axis.hour": {"zh": "时刻（点，0–23）", "en": "Hour of the day (h, 0–23)"},
    "planner.axis.day": {"zh": "日期", "en": "Day"},
    "planner.axis.share": {"zh": "覆盖率（%）", "en": "Share covered (%)"},
    "planner.axis.diff": {"zh": "差值（百分点）", "en": "Difference (percentage points)"},
    "planner.axis.pick": {"zh": "新站（推荐顺序）", "en": "New station (order picked)"},
    "planner.axis.gain.orders_per_day": {"zh": "新增覆盖需求（单/日）", "en": "Demand added (orders/day)"},
    "planner.axis.gain.weight": {"zh": "新增覆盖需求（权重）", "en": "Demand added (weight)"},
    "planner.k.not_used": {"zh": "新站数量须为 1–{max} 的整数，按 {k} 个推荐",
                           "en": "The number of new stations must be a whole number from 1 to {max}; "
                                 "{k} recommended"},
    "planner.sites.empty": {"zh": "点“推荐”后，这里列出新站，并画出每个新站新增覆盖的需求。",
                            "en": "Press Recommend: the new sites are listed here, with a chart of the demand "
                                  "each one adds."},
    "planner.url.too_many_removed": {"zh": "页面链接只记下最多 {n} 个移除的驿站：这次移除的驿站不在链接里。",
                                     "en": "The page's link keeps at most {n} removed stations: this time's "
                                           "removals are not in it."},
    "planner.sites.coords": {"zh": "坐标（WGS-84，纬度, 经度），可选中复制",
                             "en": "Coordinates (WGS-84, latitude, longitude), select to copy"},
}
