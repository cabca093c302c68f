"""Logins: argon2id passwords, TOTP accepted once, recovery codes, lockout, every failure logged."""

from __future__ import annotations

import stat

import pytest

from tests.access.conftest import Clock
from trafficai.access.auth import LOCKOUT_S, MAX_FAILURES, enrol_second_factor, login, totp_code
from trafficai.access.roles import Role, parse_role
from trafficai.access.users import UserStore, multi_user, role_of
from trafficai.errors import AccessError


def test_a_password_is_stored_as_an_argon2id_hash_in_a_private_file(store: UserStore) -> None:
    store.add("ann", Role.OPERATE, "correct horse", by="root")
    digest = store.credentials("ann").password_hash  # type: ignore[union-attr]
    assert digest.startswith("$argon2id$") and "correct horse" not in digest
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert login(store, "ann", "correct horse").role is Role.OPERATE


def test_multi_user_mode_is_on_once_a_user_exists(store: UserStore) -> None:
    assert not multi_user(store.path)
    store.add("ann", Role.VIEW, "password1", by="root")
    assert multi_user(store.path) and role_of("ann", store.path) is Role.VIEW
    assert role_of("nobody", store.path) is None


def test_bad_role_name_short_password_and_duplicate_are_one_line_errors(store: UserStore) -> None:
    with pytest.raises(AccessError, match="unknown role 'boss': use one of view, operate, manage, configure"):
        parse_role("boss")
    with pytest.raises(AccessError, match="too short"):
        store.add("ann", Role.VIEW, "short", by="root")
    with pytest.raises(AccessError, match="not allowed"):
        store.add("a b", Role.VIEW, "password1", by="root")
    store.add("ann", Role.VIEW, "password1", by="root")
    with pytest.raises(AccessError, match="exists already"):
        store.add("ann", Role.VIEW, "password1", by="root")


def test_a_totp_code_is_accepted_once_and_its_replay_is_refused(store: UserStore, clock: Clock) -> None:
    store.add("ann", Role.OPERATE, "password1", by="root")
    secret, _codes = enrol_second_factor(store, "ann", by="root")
    with pytest.raises(AccessError, match="needs a second factor"):
        login(store, "ann", "password1")
    code = totp_code(secret, clock.now)
    assert login(store, "ann", "password1", code).name == "ann"
    clock.now += 5  # the same 30 s step: the same code, seen again
    with pytest.raises(AccessError, match="login failed"):
        login(store, "ann", "password1", code)
    assert store.login_log(1)[0][2:] == ("failed", "code already used")
    clock.now += 30
    assert login(store, "ann", "password1", totp_code(secret, clock.now)).name == "ann"
    # the previous step's code is within the drift window, but older than the last one used
    with pytest.raises(AccessError):
        login(store, "ann", "password1", totp_code(secret, clock.now - 30))


def test_a_recovery_code_works_once(store: UserStore) -> None:
    store.add("ann", Role.OPERATE, "password1", by="root")
    _secret, codes = enrol_second_factor(store, "ann", by="root")
    assert len(codes) == 10 and store.get("ann").recovery_codes_left == 10
    assert login(store, "ann", "password1", codes[3]).name == "ann"
    assert store.get("ann").recovery_codes_left == 9
    with pytest.raises(AccessError, match="login failed"):
        login(store, "ann", "password1", codes[3])
    assert all("$argon2id$" in h for _, h in store.recovery_hashes("ann"))


def test_repeated_failures_lock_the_account_and_are_logged(store: UserStore, clock: Clock) -> None:
    store.add("ann", Role.OPERATE, "password1", by="root")
    for _ in range(MAX_FAILURES):
        with pytest.raises(AccessError, match="login failed"):
            login(store, "ann", "guess")
    with pytest.raises(AccessError, match="locked after 5 failed logins"):
        login(store, "ann", "password1")  # the right password does not help while locked
    clock.now += LOCKOUT_S + 1
    assert login(store, "ann", "password1").name == "ann"
    assert store.get("ann").failed_count == 0
    outcomes = [row[2:] for row in reversed(store.login_log(10))]
    assert outcomes == [("failed", "wrong password")] * 5 + [("failed", "locked"), ("ok", "")]


def test_an_unknown_user_gets_the_same_message_as_a_wrong_password(store: UserStore) -> None:
    store.add("ann", Role.OPERATE, "password1", by="root")
    with pytest.raises(AccessError, match=r"^login failed: wrong user name, password or code$"):
        login(store, "bob", "password1")
    assert store.login_log(1)[0][1:] == ("bob", "failed", "unknown user")


def test_unlock_clears_the_lockout(store: UserStore) -> None:
    store.add("ann", Role.OPERATE, "password1", by="root")
    for _ in range(MAX_FAILURES):
        with pytest.raises(AccessError):
            login(store, "ann", "x")
    store.unlock("ann", by="root")
    assert login(store, "ann", "password1").name == "ann"
