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
    "planner.national": {"zh": "全国覆盖（大文件）", "en": "National coverage (large file)"},
    "planner.national.hint": {"zh": "上传全国需求点 CSV（第一行为表头 lon,lat 或 lon,lat,weight，WGS-84 经纬度）或 "
                                    "GeoParquet（WGS-84 点，可带 weight 列），最大 {mb} MB。"
                                    "按左侧的半径、设施和时间以直线距离分块计算，可随时取消；完成后下载城市、区县和六边形表格。",
                              "en": "Upload a national file of demand points: a CSV whose first line is the header "
                                    "lon,lat or lon,lat,weight (WGS-84 degrees), or a GeoParquet of WGS-84 points "
                                    "(optionally a weight column), at most {mb} MB. It is computed in chunks by "
                                    "straight-line distance with the reach, amenities and time on the left, and can be "
                                    "cancelled; when done, download the city, district and hexagon tables."},
    "planner.national.file": {"zh": "CSV 或 GeoParquet 文件", "en": "CSV or GeoParquet file"},
    "planner.national.start": {"zh": "上传并开始", "en": "Upload and start"},
    "planner.national.cancel": {"zh": "取消任务", "en": "Cancel the job"},
    "planner.national.download": {"zh": "下载结果表格（Excel）", "en": "Download the tables (Excel)"},
    "planner.national.no_file": {"zh": "请先选择一个 CSV 或 GeoParquet 文件。", "en": "Choose a CSV or GeoParquet file first."},
    "planner.national.uploading": {"zh": "正在上传 {name}…", "en": "Uploading {name}…"},
    "planner.national.refused": {"zh": "未能开始：{error}", "en": "Not started: {error}"},
    "planner.national.gone": {"zh": "服务器上已没有这个任务（只保留最近的任务），请重新上传。",
                              "en": "The server no longer has this job (only the latest jobs are kept); upload it "
                                    "again."},
    "planner.national.state.queued": {"zh": "任务 {id}：排队中", "en": "Job {id}: queued"},
    "planner.national.state.running": {"zh": "任务 {id}：计算中，已读 {rows} 行（{pct}）",
                                       "en": "Job {id}: running, {rows} rows read ({pct})"},
    "planner.national.state.cancelling": {"zh": "任务 {id}：正在取消，已读 {rows} 行",
                                          "en": "Job {id}: cancelling, {rows} rows read"},
    "planner.national.state.done": {"zh": "任务 {id}：完成，共 {rows} 行", "en": "Job {id}: done, {rows} rows"},
    "planner.national.state.failed": {"zh": "任务 {id}：失败（{error}）", "en": "Job {id}: failed ({error})"},
    "planner.national.state.cancelled": {"zh": "任务 {id}：已取消，读到 {rows} 行",
                                         "en": "Job {id}: cancelled after {rows} rows"},
}
