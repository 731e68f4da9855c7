"""Staff accounts from the command line: `python -m mapdata.users add|list|disable|set-password|token`.

For the first admin of a deployment and for scripts. Passwords are read from standard input
(``--password-stdin``), never from the command line where other users of the machine could see them;
without it, ``add`` makes a random password and prints it once. Every change is in the audit log.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from mapdata.config import Settings
from mapdata.store import StoreError, open_store

#: Who the audit log names for a change made here.
CLI_USER = "cli"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mapdata.users", description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="the store (default: NUANXIN_DB)")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("station", "street", "district", "city"))
    add.add_argument("--station", action="append", default=[], metavar="ID", help="a station account's station (repeat)")
    add.add_argument("--street", help="a street account's street (街道)")
    add.add_argument("--district", type=int, metavar="ADCODE", help="a district account's district (or a street's)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_parser("list", help="list the accounts")
    disable = sub.add_parser("disable", help="disable an account: it cannot sign in, its sessions and tokens end")
    disable.add_argument("name")
    setpw = sub.add_parser("set-password", help="set a new password (ends the account's sessions)")
    setpw.add_argument("name")
    setpw.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    token = sub.add_parser("token", help="issue an API token for scripts (printed once)")
    token.add_argument("name")
    token.add_argument("--label", default="", help="what the token is for")
    return parser


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass("password: ")


def _area(record) -> str:
    if record.role == "station":
        return ",".join(record.stations)
    if record.role == "street":
        return f"{record.street} ({record.adcode})"
    if record.role == "district":
        return str(record.adcode)
    return "Chengdu"


def main(argv: list[str] | None = None) -> int:
    from layers.common.errors import QuestionError
    from layers.staff import accounts

    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    store = open_store(args.db or settings.db_path)
    try:
        if not store.exists():
            raise StoreError(f"no data store at {args.db or settings.db_path}; build it with `make data`")
        store.upgrade()
        if args.command == "add":
            generated = not args.password_stdin
            password = accounts.new_password() if generated else _read_password(True)
            record = accounts.create_account(store, name=args.name, role=args.role, password=password,
                                             stations=args.station, street=args.street, adcode=args.district,
                                             by=CLI_USER)
            print(f"added {record.name} ({record.role}, {_area(record)})")
            if generated:
                print(f"password (shown once): {password}")
        elif args.command == "list":
            for r in store.accounts.list():
                print(f"{r.name}\t{r.role}\t{_area(r)}\t{'disabled' if r.disabled else 'active'}\t{r.created_at}")
        elif args.command == "disable":
            accounts.disable(store, args.name, by=CLI_USER)
            print(f"disabled {args.name}: its sessions and tokens have ended")
        elif args.command == "set-password":
            accounts.set_password(store, args.name, _read_password(args.password_stdin), by=CLI_USER)
            print(f"new password set for {args.name}: its sessions have ended")
        elif args.command == "token":
            token = accounts.issue_token(store, args.name, args.label, by=CLI_USER)
            print(token)
    except QuestionError as exc:
        print(f"error: {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
