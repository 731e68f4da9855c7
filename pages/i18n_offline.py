"""Labels of the rider page with no signal: the saved answer, its time, the offline card (merged into pages.i18n.TEXT)."""
from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "offline.badge": {"zh": "离线 · 更新于 {time}", "en": "Offline · updated {time}"},
    "offline.title": {"zh": "上次查到的最近驿站", "en": "Nearest stations, as last found"},
    "offline.intro": {"zh": "现在没有网络。这是这台手机上次存下的结果，营业状态按存下的营业时间在手机上推算。",
                      "en": "No network now. These are the results this phone saved last; open or closed is "
                            "worked out on the phone from the saved hours."},
    "offline.nothing": {"zh": "现在没有网络，这台手机还没有存下结果。有信号时打开一次本页，没信号时就能查看上次的结果。",
                        "en": "No network, and nothing saved on this phone yet. Open this page once with a signal "
                              "to see its last results without one."},
    "offline.retry": {"zh": "重新连接", "en": "Try again"},
    "offline.beyond": {"zh": "存下的营业时间只到 {when}", "en": "The saved hours reach only {when}"},
    "offline.days": {"zh": "近几天营业时间", "en": "Opening hours, next days"},
    "offline.temporary": {"zh": "临时关闭", "en": "Closed temporarily"},
    "offline.hours_note": {"zh": "营业时间于 {time} 存下，含节假日安排", "en": "Hours saved at {time}, holidays included"},
    "offline.date_time": {"zh": "{month}月{day}日 {clock}", "en": "{mon} {day} {clock}"},
}

#: Labels the offline page script shows besides its own: the status lines and days as the online page says them.
SHARED_KEYS = ("app.title", "rider.card.close", "rider.card.call", "rider.card.closed_day", "rider.card.today",
               "rider.card.all_day", "rider.none", "status.open", "status.open_until", "status.closing_soon",
               "status.closed", "status.closed_until", "when.today", "when.tomorrow", "when.weekday", "when.date",
               *(f"weekday.{d}" for d in range(7)))
