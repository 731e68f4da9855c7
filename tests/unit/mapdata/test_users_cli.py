"""`python -m mapdata.users`: the first admin and scripts' accounts, hashes only, every change audited."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

from layers.staff.accounts import AuthError, account_for_token, authenticate
from mapdata.store import open_store
from mapdata.users import main


def run(db, *args, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mapdata.users", "--db", str(db), *args], input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_add_list_token_disable_from_the_shell(writable_db):
    added = run(writable_db, "add", "chengdu-admin", "--role", "city", "--password-stdin",
                stdin="a long enough secret\n")
    assert added.returncode == 0, added.stderr
    assert "chengdu-admin" in run(writable_db, "list").stdout
    store = open_store(writable_db)
    assert authenticate(store.accounts, "chengdu-admin", "a long enough secret").role == "city"
    token = run(writable_db, "token", "chengdu-admin", "--label", "nightly import").stdout.strip()
    assert token.startswith("nx_") and account_for_token(store.accounts, token).name == "chengdu-admin"
    with closing(sqlite3.connect(writable_db)) as conn:
        dump = "\n".join(conn.iterdump())
    assert "a long enough secret" not in dump and token not in dump  # hashes only
    assert run(writable_db, "disable", "chengdu-admin").returncode == 0
    assert account_for_token(store.accounts, token) is None
    with pytest.raises(AuthError):
        authenticate(store.accounts, "chengdu-admin", "a long enough secret")
    actions = [e["action"] for e in store.accounts.events("chengdu-admin")]
    assert actions == ["account_add", "login", "token_add", "account_disable", "login_failed"]


def test_an_account_without_password_stdin_gets_a_random_one_printed_once(writable_db, capsys):
    assert main(["--db", str(writable_db), "add", "d1", "--role", "district", "--district", "510104"]) == 0
    out = capsys.readouterr().out
    password = out.split("password (shown once): ")[1].strip()
    assert authenticate(open_store(writable_db).accounts, "d1", password).adcode == 510104


@pytest.mark.parametrize("args, field", [
    (["add", "x1", "--role", "station"], "stations"),
    (["add", "x1", "--role", "station", "--station", "st-9999"], "stations"),
    (["add", "x1", "--role", "street", "--street", "没有这条街道"], "street"),
    (["add", "x1", "--role", "district"], "district"),
    (["add", "x1", "--role", "district", "--district", "110000"], "district"),
    (["add", "x", "--role", "city"], "name"),
])
def test_a_bad_account_is_refused_naming_the_field_and_nothing_is_written(writable_db, capsys, args, field):
    code = main(["--db", str(writable_db), *args])
    assert code == 2
    assert capsys.readouterr().err.startswith(f"error: {field}:")
    assert open_store(writable_db).accounts.list() == []


def test_a_short_password_and_a_duplicate_name_are_refused(writable_db, monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["--db", str(writable_db), "add", "c1", "--role", "city", "--password-stdin"]) == 2
    assert "password" in capsys.readouterr().err
    assert main(["--db", str(writable_db), "add", "c1", "--role", "city"]) == 0
    assert main(["--db", str(writable_db), "add", "c1", "--role", "city"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_a_new_password_ends_the_sessions(writable_db):
    from layers.staff.accounts import account_for_session, set_password

    store = open_store(writable_db)
    assert main(["--db", str(writable_db), "add", "c2", "--role", "city"]) == 0
    record = store.accounts.get("c2")
    assert account_for_session(store.accounts, record.id, record.session_epoch) is not None
    set_password(store, "c2", "another long password", by="test")
    assert account_for_session(store.accounts, record.id, record.session_epoch) is None


def test_make_run_on_demo_data_without_accounts_makes_one_admin_once(writable_db, capsys):
    import app as app_module
    from mapdata.config import Settings

    services = app_module.create_services(Settings(db_path=writable_db, secret_key="t", tile_source="none"))
    assert services.store.accounts.count() == 0  # the demo build ships no account
    password = app_module.first_admin(services)
    printed = capsys.readouterr().out
    assert password and password in printed and "admin" in printed
    assert authenticate(services.store.accounts, "admin", password).role == "city"
    assert app_module.first_admin(services) is None  # not again, and no second password printed
    assert password not in capsys.readouterr().out
