"""The privacy officer's user management: add, certify, revoke, token, list (officer token needed)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from clearhouse.acts import users
from clearhouse.cli._common import JsonOption, TokenFileOption, acting, out, print_json, settings
from clearhouse.errors import ConfigError

users_app = typer.Typer(
    help="users and their API tokens: add, certify, revoke, token, list (privacy officer)", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    users_app.command("add", help="add a user with a role; prints the new token once")(add)
    users_app.command("certify", help="(re)certify a labeler until a date (inclusive)")(certify)
    users_app.command("revoke", help="revoke a user: their token stops working at once")(revoke)
    users_app.command("token", help="replace a user's token (lost or leaked); prints the new one once")(token)
    users_app.command("list", help="users, roles, certifications (never tokens)")(list_users)
    app.add_typer(users_app, name="users")


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad(option, value)
    except ValueError:
        return _bad(option, value)


def _bad(option: str, value: str) -> date:
    raise ConfigError(f"{option} {value!r} is not a date (YYYY-MM-DD)")


def add(
    name: Annotated[str, typer.Argument(help="user name (lower case; recorded in the audit log)")],
    role: Annotated[str, typer.Option(help="engineer, labeler or officer")],
    certified_until: Annotated[
        str | None, typer.Option(help="labelers: certified until this day (YYYY-MM-DD), by you")
    ] = None,
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    by = acting(s, token_file, "officer", act="users add")
    user, secret = users.add_user(s, name, role, by=by, certified_until=_date(certified_until, "--certified-until"))
    if json:
        print_json({"name": user.name, "role": user.role, "token": secret})
        return
    until = f", certified until {user.certified_until}" if user.certified_until else ""
    out(f"added {user.role} {user.name}{until}")
    if user.role == "labeler" and user.certified_until is None:
        out(f"not certified yet: pulls are refused until `clearhouse users certify {user.name} --until YYYY-MM-DD`")
    out(f"token (shown once; store it in a 0600 file): {secret}")


def certify(
    name: str,
    until: Annotated[str, typer.Option(help="last day the certification is valid (YYYY-MM-DD)")],
    json: JsonOption = False,
    token_file: TokenFileOption = None,
) -> None:
    s = settings()
    by = acting(s, token_file, "officer", act="users certify")
    day = _date(until, "--until")
    assert day is not None  # a required option
    user = users.certify(s, name, day, by=by)
    if json:
        print_json(user.to_dict())
        return
    out(f"{user.name} certified until {user.certified_until} by {user.certified_by}")


def revoke(name: str, json: JsonOption = False, token_file: TokenFileOption = None) -> None:
    s = settings()
    user = users.revoke(s, name, by=acting(s, token_file, "officer", act="users revoke"))
    if json:
        print_json(user.to_dict())
        return
    out(f"revoked {user.name}: their token no longer works")


def token(name: str, json: JsonOption = False, token_file: TokenFileOption = None) -> None:
    s = settings()
    secret = users.reissue_token(s, name, by=acting(s, token_file, "officer", act="users token"))
    if json:
        print_json({"name": name, "token": secret})
        return
    out(f"new token for {name} (shown once; the old one no longer works): {secret}")


def list_users(json: JsonOption = False, token_file: TokenFileOption = None) -> None:
    s = settings()
    found = users.list_users(s, by=acting(s, token_file, "officer", act="users list"))
    if json:
        print_json([u.to_dict() for u in found])
        return
    out(f"{'name':<20} {'role':<9} {'status':<8} certification")
    for u in found:
        cert = ""
        if u.role == "labeler":
            problem = u.certification_problem()
            cert = f"until {u.certified_until} by {u.certified_by}" if u.certified_until else "not certified"
            cert += f" ({problem})" if problem and u.certified_until else ""
        out(f"{u.name:<20} {u.role:<9} {'revoked' if u.revoked else 'active':<8} {cert}")
