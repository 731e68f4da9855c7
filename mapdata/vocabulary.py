"""The controlled vocabularies of the data: amenity keys, statuses, sign kinds. Extend them here, only here."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Amenity:
    key: str
    zh: str
    en: str


#: Station facilities. The key is stable (it is stored and used in URLs and the API);
#: the order is the order shown to users.
AMENITIES: tuple[Amenity, ...] = (
    Amenity("drinking_water", "饮水", "Drinking water"),
    Amenity("microwave", "微波炉", "Microwave"),
    Amenity("charging", "充电", "Phone charging"),
    Amenity("toilet", "卫生间", "Toilet"),
    Amenity("first_aid", "急救箱", "First aid"),
    Amenity("books", "图书", "Books"),
    Amenity("legal_counselling", "法律咨询", "Legal counselling"),
    Amenity("psychological_counselling", "心理咨询", "Psychological counselling"),
    Amenity("air_conditioning", "空调(制冷/取暖)", "Air conditioning (cooling and heating)"),
    Amenity("rest_area", "休息区", "Rest area"),
    Amenity("kitchen", "厨房", "Kitchen"),
    Amenity("wifi", "无线网络", "Wi-Fi"),
)
AMENITY_KEYS: tuple[str, ...] = tuple(a.key for a in AMENITIES)
AMENITY_BY_KEY: dict[str, Amenity] = {a.key: a for a in AMENITIES}

#: Station status. ``closed_temporarily`` overrides the opening hours until ``status_until``.
STATION_STATUSES: tuple[str, ...] = ("open", "closed_temporarily")

#: Wayfinding signs, after 崇州市's standard: a site plan at each gate, direction signs at the
#: main junctions, a visible number on each building.
SIGN_KINDS: tuple[str, ...] = ("site_plan", "direction", "building_number")
SIGN_CONDITIONS: tuple[str, ...] = ("good", "damaged", "missing")

#: Kinds of place riders pick orders up at (from OSM tags): where a new station could stand.
PLACE_KINDS: tuple[str, ...] = ("mall", "marketplace", "supermarket", "food", "shop")

#: The time zone of every time the app stores, asks and shows.
TIMEZONE = "Asia/Shanghai"

#: Coordinate systems accepted on input. Everything stored is WGS-84.
INPUT_CRS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")


@dataclass(frozen=True)
class ReportKind:
    key: str
    zh: str
    en: str
    #: what the report is about: a station, a compound (gate, sign, route) or either
    about: str


#: What riders report (the service ledger's kinds); the key is stored and used by the Open311 API.
REPORT_KINDS: tuple[ReportKind, ...] = (
    ReportKind("facility_broken", "设施损坏", "Facility broken", "station"),
    ReportKind("closed_in_hours", "未按时开放", "Closed during its hours", "station"),
    ReportKind("wrong_info", "信息有误", "Wrong information", "any"),
    ReportKind("gate_refuses", "小区门禁不让进", "Compound gate refuses riders", "compound"),
    ReportKind("sign_missing", "指示牌缺失或损坏", "Sign missing or damaged", "compound"),
    ReportKind("hazard", "安全隐患", "Hazard", "any"),
    ReportKind("suggestion", "建议（骑思妙想）", "Suggestion", "any"),
)
REPORT_KIND_KEYS: tuple[str, ...] = tuple(k.key for k in REPORT_KINDS)
#: A report's states, in the order it moves through them; the last three end it.
REPORT_STATES: tuple[str, ...] = ("new", "acknowledged", "in_progress", "resolved", "rejected", "duplicate")
#: Each state's name on the ledger (zh, en).
REPORT_STATE_NAMES: dict[str, tuple[str, str]] = {
    "new": ("新报告", "New"), "acknowledged": ("已受理", "Acknowledged"), "in_progress": ("处理中", "In progress"),
    "resolved": ("已解决", "Resolved"), "rejected": ("不予处理", "Rejected"), "duplicate": ("重复", "Duplicate"),
}
#: Points a rider code earns when staff confirm a report of each kind as true (属实): the one table of amounts.
REPORT_POINTS: dict[str, int] = {"facility_broken": 10, "closed_in_hours": 10, "wrong_info": 5, "gate_refuses": 10,
                                 "sign_missing": 5, "hazard": 15, "suggestion": 5}
