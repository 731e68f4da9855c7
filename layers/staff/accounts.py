"""Staff accounts: the four roles and their areas, password and token hashing, signing in, managing accounts.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's second recommendation); API
tokens are 256-bit random strings kept as their SHA-256 (a token is random enough that a slow hash
buys nothing, and lookup by hash needs a deterministic one). A session carries the account's
``session_epoch``: a new password or a disabled account bumps it, and every session made before ends.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from layers.common.errors import AccessDenied, QuestionError
from mapdata.store.accounts import AccountRecord, AccountTable

#: Least to most: station staff (驿站管理员), street/community worker (街道、社区), district admin (区), city admin.
ROLES = ("station", "street", "district", "city")
ROLE_RANK = {role: i for i, role in enumerate(ROLES)}
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.\-@\u4e00-\u9fff]{2,64}")
TOKEN_PREFIX = "nx_"
#: A dummy hash to verify against when the account does not exist, so a wrong name costs as much as a wrong password.
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("no account has this password " + secrets.token_hex(8))


class AuthError(Exception):
    """Signing in failed; the message never says whether the name or the password was wrong."""


@dataclass(frozen=True)
class Account:
    """A signed-in account: its role and the area it may touch."""

    id: int
    name: str
    role: str
    stations: tuple[str, ...] = ()
    street: str | None = None
    adcode: int | None = None
    session_epoch: int = 1

    @classmethod
    def of(cls, record: AccountRecord) -> Account:
        return cls(record.id, record.name, record.role, tuple(record.stations), record.street, record.adcode,
                   record.session_epoch)

    def outranks(self, other_role: str) -> bool:
        return ROLE_RANK[self.role] > ROLE_RANK[other_role]


def hash_password(password: str) -> str:
    check_password(password)
    return _HASHER.hash(password)


def check_password(password) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise QuestionError("password", f"a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    return password


def new_password() -> str:
    """A random password for a first admin (printed once, never stored in plain text)."""
    return secrets.token_urlsafe(15)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def authenticate(table: AccountTable, name, password, address: str = "") -> Account:
    """The account whose name and password these are, or AuthError; both outcomes are audited."""
    if not isinstance(name, str) or not isinstance(password, str) or len(password) > MAX_PASSWORD_CHARS \
            or len(name) > 64:
        raise AuthError("wrong name or password")
    record = table.get(name)
    try:
        _HASHER.verify(record.password_hash if record else _DUMMY_HASH, password)
        ok = record is not None and not record.disabled
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        if record is not None:
            table.record(name, "login_failed", {"address": address, "disabled": record.disabled})
        raise AuthError("wrong name or password")
    if _HASHER.check_needs_rehash(record.password_hash):
        table.update(name, {"password_hash": _HASHER.hash(password)}, by=name, action="password_rehash")
    table.record(name, "login", {"address": address})
    return Account.of(record)


def account_for_session(table: AccountTable, account_id, epoch) -> Account | None:
    """The account a session cookie names, if it still stands (not disabled, password unchanged since)."""
    if not isinstance(account_id, int) or not isinstance(epoch, int):
        return None
    record = table.by_id(account_id)
    if record is None or record.disabled or record.session_epoch != epoch:
        return None
    return Account.of(record)


def account_for_token(table: AccountTable, token) -> Account | None:
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    record = table.by_token_hash(token_hash(token))
    if record is None or record.disabled:
        return None
    return Account.of(record)


# -- managing accounts ---------------------------------------------------------------------------

def check_account_fields(role, stations, street, adcode, known_stations, known_streets, known_adcodes):
    """The area fields of a new or changed account, checked against the data; QuestionError names the field.

    ``known_streets`` maps a street name to the adcodes of the districts it lies in.
    Returns (stations, street, adcode) as the account keeps them.
    """
    if role not in ROLES:
        raise QuestionError("role", f"got {role!r}; expected one of {', '.join(ROLES)}")
    stations = tuple(dict.fromkeys(stations or ()))
    if role != "station" and stations:
        raise QuestionError("stations", f"only a station account lists stations; a {role} account has an area")
    if role != "street" and street:
        raise QuestionError("street", f"only a street account names a street, not a {role} account")
    if role == "station":
        return _station_area(stations, known_stations), None, None
    if role == "street":
        adcode = _street_district(street, adcode, known_streets)
    if role == "district" and adcode is None:
        raise QuestionError("district", "a district account needs its district's adcode")
    if role == "city":
        return (), None, None
    if adcode not in known_adcodes:
        raise QuestionError("district", f"no district with adcode {adcode}")
    return (), street, adcode


def _station_area(stations, known_stations) -> tuple[str, ...]:
    if not stations:
        raise QuestionError("stations", "a station account needs at least one station id")
    unknown = [s for s in stations if s not in known_stations]
    if unknown:
        raise QuestionError("stations", f"no station with id {unknown[0]!r}")
    return stations


def _street_district(street, adcode, known_streets) -> int:
    if not street:
        raise QuestionError("street", "a street account needs its street (街道) name")
    districts = known_streets.get(street)
    if not districts:
        raise QuestionError("street", f"no station lies in a street named {street!r}")
    if adcode is None:
        if len(districts) > 1:
            raise QuestionError("district", f"{street!r} is in several districts ({', '.join(map(str, districts))}); "
                                            "give --district")
        return next(iter(districts))
    if adcode not in districts:
        raise QuestionError("district", f"{street!r} is not in district {adcode}")
    return adcode


def may_manage(actor: Account, role: str, adcode: int | None, station_districts=()) -> bool:
    """A city admin manages every account; a district admin those below it in its district."""
    if actor.role == "city":
        return True
    if actor.role != "district" or not actor.outranks(role):
        return False
    if role == "station":
        return bool(station_districts) and all(d == actor.adcode for d in station_districts)
    return adcode == actor.adcode


def _known(store) -> tuple[set[str], dict[str, set[int]], set[int], dict[str, int]]:
    stations = store.read("stations")
    streets: dict[str, set[int]] = {}
    for street, adcode in zip(stations["street"], stations["adcode"].astype(int)):
        if isinstance(street, str):
            streets.setdefault(street, set()).add(int(adcode))
    adcodes = {int(a) for a in store.read("districts")["adcode"]}
    district_of = dict(zip(stations["id"].astype(str), stations["adcode"].astype(int)))
    return set(stations["id"].astype(str)), streets, adcodes, district_of


def create_account(store, *, name, role, password, stations=(), street=None, adcode=None, by: str,
                   actor: Account | None = None) -> AccountRecord:
    """A new account, its area checked against the data; with ``actor``, only within what it manages.

    The password is hashed here; the store keeps the hash and an audit entry, all or nothing.
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise QuestionError("name", "2 to 64 letters, digits, Chinese characters or . _ - @")
    known_stations, streets, adcodes, district_of = _known(store)
    stations, street, adcode = check_account_fields(role, stations, street, adcode, known_stations, streets, adcodes)
    if actor is not None and not may_manage(actor, role, adcode, [district_of[s] for s in stations]):
        raise AccessDenied("role", "this account may not create that account")
    return store.accounts.add(name=name, role=role, password_hash=hash_password(password), by=by,
                              stations=stations, street=street, adcode=adcode)


def set_password(store, name: str, password: str, *, by: str) -> AccountRecord:
    """A new password; every session of the account ends."""
    return store.accounts.update(name, {"password_hash": hash_password(password)}, by=by, action="password_change",
                                 end_sessions=True)


def disable(store, name: str, *, by: str) -> AccountRecord:
    """The account can no longer sign in; its sessions end and its tokens are revoked."""
    return store.accounts.update(name, {"disabled": True}, by=by, action="account_disable", end_sessions=True)


def issue_token(store, name: str, label: str, *, by: str) -> str:
    """A new API token for scripts: shown once, kept as its hash."""
    if store.accounts.get(name) is None:
        raise QuestionError("name", f"no account named {name!r}")
    token = new_token()
    store.accounts.add_token(name, token_hash(token), label[:100], by=by)
    return token


# -- what a signed-in session holds (the web layer keeps it in a signed, HttpOnly cookie) ----------

SESSION_ACCOUNT = "account"
SESSION_EPOCH = "epoch"
SESSION_CSRF = "csrf"


def session_values(account: Account) -> dict:
    """The session of a fresh sign-in: the account, the epoch it was made in, a new CSRF token."""
    return {SESSION_ACCOUNT: account.id, SESSION_EPOCH: account.session_epoch, SESSION_CSRF: secrets.token_urlsafe(24)}


def account_of_session(table: AccountTable, session) -> Account | None:
    """The account a session names, if it still stands."""
    if not hasattr(session, "get"):
        return None
    return account_for_session(table, session.get(SESSION_ACCOUNT), session.get(SESSION_EPOCH))


def csrf_matches(session, given) -> bool:
    expected = session.get(SESSION_CSRF) if hasattr(session, "get") else None
    return isinstance(expected, str) and isinstance(given, str) and secrets.compare_digest(expected, given)


def managed_by(store, actor: Account) -> list[AccountRecord]:
    """The accounts ``actor`` manages (a city admin: all; a district admin: those below it in its district)."""
    _, _, _, district_of = _known(store)
    out = []
    for record in store.accounts.list():
        if record.name == actor.name:
            continue
        districts = [district_of.get(s) for s in record.stations]
        if may_manage(actor, record.role, record.adcode, districts):
            out.append(record)
    return out


def disable_by(store, actor: Account, name: str) -> AccountRecord:
    """Disable an account ``actor`` manages; anything else is AccessDenied (nothing changes)."""
    if not any(r.name == name for r in managed_by(store, actor)):
        raise AccessDenied("name", "this account may not disable that account")
    return disable(store, name, by=actor.name)
