"""``trafficai users add|list|remove|role|passwd|totp|unlock|login|log``: operator accounts.

The first ``users add`` turns multi-user mode on (the GUI then asks for a login, the worker checks
every command's role). Once users exist, changing accounts needs a ``configure`` user's login
(``--as NAME``: password, and code when enrolled, are asked for on the terminal).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from trafficai.cli.output import out
from trafficai.errors import AccessError

if TYPE_CHECKING:
    from trafficai.access.audit import AuditLog
    from trafficai.access.users import UserStore

AS_OPTION = typer.Option("--as", help="Your user name (a configure user) once users exist")


def _stores() -> tuple[UserStore, AuditLog]:
    """Imported here, not at the top: ``trafficai --help`` does not pay for argon2 and cryptography."""
    from trafficai.access.audit import AuditLog
    from trafficai.access.users import UserStore

    audit = AuditLog()
    return UserStore(audit=audit), audit


def _prompt_password(what: str = "Password", confirm: bool = True) -> str:
    return str(typer.prompt(what, hide_input=True, confirmation_prompt=confirm))


def _actor(store: UserStore, as_user: str | None, *, self_service: str = "") -> str:
    """Who changes accounts: see :func:`cli_actor` (``self_service``: the account's own owner may
    change their own password or second factor)."""
    return _login_for(store, as_user, "configure", "change accounts", self_service)


def _login_for(store: UserStore, as_user: str | None, needed: str, what: str, self_service: str = "") -> str:
    from trafficai.access.auth import login
    from trafficai.access.identity import os_user
    from trafficai.access.roles import parse_role

    if not store.any_users():
        return os_user()
    if not as_user:
        raise AccessError(f"users exist: say who you are with --as NAME (a {needed} user)")
    password = _prompt_password(f"Password of {as_user}", confirm=False)
    code = typer.prompt("Authenticator or recovery code", default="") if _has_totp(store, as_user) else ""
    who = login(store, as_user, password, code)
    level = parse_role(needed)
    if who.role < level and who.name != self_service:
        raise AccessError(f"{who.name} ({who.role.label}) may not {what}: it needs {level.label}")
    return who.name


def cli_actor(as_user: str | None, needed: str, what: str) -> tuple[str, AuditLog]:
    """For a CLI command that changes something: the OS user while no account exists, else the user
    ``--as`` names, logged in on the terminal and holding role ``needed``; and the open audit log
    (the caller records its action there and closes it)."""
    store, audit = _stores()
    with store:
        try:
            return _login_for(store, as_user, needed, what), audit
        except BaseException:
            audit.close()
            raise


def users_add(
    name: Annotated[str, typer.Argument(help="The new user's name")],
    role: Annotated[
        str, typer.Option(help="view | operate | manage | configure (the first user: configure)")
    ] = "view",
    totp: Annotated[bool, typer.Option("--totp", help="Enrol a TOTP second factor now")] = False,
    as_user: Annotated[str | None, AS_OPTION] = None,
) -> None:
    """Add an operator (the first one turns multi-user mode on)."""
    from trafficai.access.roles import Role, parse_role
    from trafficai.access.users import check_name

    level = parse_role(role)
    check_name(name)
    store, audit = _stores()
    with store, audit:
        if not store.any_users() and level < Role.CONFIGURE:
            raise AccessError(
                "the first user must be able to manage accounts: add them with --role configure"
            )
        by = _actor(store, as_user)
        store.add(name, level, _prompt_password(f"Password for {name}"), by=by)
        out.print(f"added {name} ({level.label})")
        if totp:
            _enrol(store, name, by)


def _enrol(store: UserStore, name: str, by: str) -> None:
    from trafficai.access.auth import enrol_second_factor, provisioning_uri

    secret, codes = enrol_second_factor(store, name, by=by)
    out.print(f"TOTP secret for {name}: {secret}")
    out.print(f"authenticator URI: {provisioning_uri(name, secret)}")
    out.print("recovery codes (each works once; shown only now):")
    for code in codes:
        out.print(f"  {code}")


def users_list() -> None:
    """Every user, their role, second factor and lock state."""
    store, audit = _stores()
    with store, audit:
        users = store.users()
    if not users:
        out.print("no users: single-user mode (the OS user is recorded)")
    for u in users:
        locked = " locked" if u.locked_until > time.time() else ""
        factor = f"totp ({u.recovery_codes_left} recovery codes)" if u.totp else "password only"
        out.print(f"{u.name:<24} {u.role.label:<10} {factor}{locked}")


def users_remove(
    name: Annotated[str, typer.Argument(help="The user to remove")],
    as_user: Annotated[str | None, AS_OPTION] = None,
) -> None:
    """Remove a user (removing the last one turns multi-user mode off)."""
    store, audit = _stores()
    with store, audit:
        store.get(name)
        store.remove(name, by=_actor(store, as_user))
    out.print(f"removed {name}")


def users_role(
    name: Annotated[str, typer.Argument(help="The user")],
    role: Annotated[
        str | None, typer.Option(help="The new role: view | operate | manage | configure")
    ] = None,
    as_user: Annotated[str | None, AS_OPTION] = None,
) -> None:
    """Change a user's role."""
    from trafficai.access.roles import ROLE_NAMES, parse_role

    if role is None:
        raise AccessError(f"users role {name}: give the new role with --role ({', '.join(ROLE_NAMES)})")
    level = parse_role(role)
    store, audit = _stores()
    with store, audit:
        store.get(name)
        store.set_role(name, level, by=_actor(store, as_user))
    out.print(f"{name} is now {level.label}")


def users_passwd(
    name: Annotated[str, typer.Argument(help="The user")],
    as_user: Annotated[str | None, AS_OPTION] = None,
) -> None:
    """Set a user's password (a user may change their own: --as themselves)."""
    store, audit = _stores()
    with store, audit:
        store.get(name)
        by = _actor(store, as_user, self_service=name)
        store.set_password(name, _prompt_password(f"New password for {name}"), by=by)
    out.print(f"password of {name} changed")


def users_totp(
    name: Annotated[str, typer.Argument(help="The user")],
    off: Annotated[bool, typer.Option("--off", help="Remove the second factor instead")] = False,
    as_user: Annotated[str | None, AS_OPTION] = None,
) -> None:
    """Enrol (new secret and recovery codes) or remove a user's TOTP second factor."""
    store, audit = _stores()
    with store, audit:
        store.get(name)
        by = _actor(store, as_user, self_service=name)
        if off:
            store.set_second_factor(name, None, [], by=by)
            out.print(f"second factor of {name} removed")
        else:
            _enrol(store, name, by)


def users_unlock(
    name: Annotated[str, typer.Argument(help="The locked user")],
    as_user: Annotated[str | None, AS_OPTION] = None,
) -> None:
    """Lift the lockout after repeated failed logins."""
    store, audit = _stores()
    with store, audit:
        store.get(name)
        store.unlock(name, by=_actor(store, as_user))
    out.print(f"{name} unlocked")


def users_login(name: Annotated[str, typer.Argument(help="The user")]) -> None:
    """Check a login (password, then the code when a second factor is enrolled); logged."""
    from trafficai.access.auth import login

    store, audit = _stores()
    with store, audit:
        password = _prompt_password(f"Password of {name}", confirm=False)
        code = typer.prompt("Authenticator or recovery code", default="") if _has_totp(store, name) else ""
        user = login(store, name, password, code)
    out.print(f"logged in as {user.name} ({user.role.label})")


def _has_totp(store: UserStore, name: str) -> bool:
    return store.credentials(name) is not None and store.get(name).totp


def users_log(limit: Annotated[int, typer.Option(help="How many attempts, newest first")] = 20) -> None:
    """The latest login attempts, failed ones with why."""
    store, audit = _stores()
    with store, audit:
        rows = store.login_log(limit)
    for when, name, outcome, reason in rows:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))
        line = f"{stamp}  {name:<24} {outcome}" + (f" ({reason})" if reason else "")
        out.print(line)


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=True, help="Operator accounts, roles and second factors.")
    for name, command in (
        ("add", users_add),
        ("list", users_list),
        ("remove", users_remove),
        ("role", users_role),
        ("passwd", users_passwd),
        ("totp", users_totp),
        ("unlock", users_unlock),
        ("login", users_login),
        ("log", users_log),
    ):
        group.command(name)(command)
    app.add_typer(group, name="users")
