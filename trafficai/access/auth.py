"""Logging in: password (argon2id), then the TOTP code or a recovery code when one is enrolled.

* A TOTP code (RFC 6238, 30 s steps, 6 digits) is accepted for the current step and one either
  side (clock drift), and at most once: the last accepted step is kept and a code for it or an
  earlier step is refused (pyotp's ``verify`` would accept it again).
* Recovery codes: ten, shown once at enrolment, kept as argon2id hashes; one used is deleted.
* Every failure (unknown user, wrong password, missing/wrong/replayed code, locked) is logged
  (``login_log``, the audit log, the logger). ``MAX_FAILURES`` failures in a row lock the account
  for ``LOCKOUT_S``: this is also the rate limit on guessing codes (5 tries per 15 min).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import time

import pyotp
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from trafficai.access.users import Credentials, User, UserStore
from trafficai.errors import AccessError

logger = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT_S = 900.0
TOTP_STEP_S = 30
TOTP_DRIFT_STEPS = 1
RECOVERY_CODES = 10
ISSUER = "trafficai"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(name: str, secret: str) -> str:
    """What an authenticator app scans (``otpauth://totp/...``)."""
    return pyotp.TOTP(secret, interval=TOTP_STEP_S).provisioning_uri(name=name, issuer_name=ISSUER)


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """``xxxxx-xxxxx`` codes of 50 random bits each."""
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read off paper
    return [
        "".join(secrets.choice(alphabet) for _ in range(5))
        + "-"
        + "".join(secrets.choice(alphabet) for _ in range(5))
        for _ in range(count)
    ]


def enrol_second_factor(store: UserStore, name: str, *, by: str) -> tuple[str, list[str]]:
    """A new TOTP secret and recovery codes for ``name`` (shown once); returns (secret, codes)."""
    secret = new_totp_secret()
    codes = new_recovery_codes()
    store.set_second_factor(name, secret, [store.hasher.hash(c) for c in codes], by=by)
    return secret, codes


def totp_code(secret: str, at: float) -> str:
    """The code an authenticator shows at epoch second ``at`` (tests, the CLI's check)."""
    return pyotp.TOTP(secret, interval=TOTP_STEP_S).at(at)


def _password_ok(store: UserStore, digest: str, password: str) -> bool:
    try:
        return store.hasher.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The TOTP step within the drift window whose code is ``code``."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_S)
    step = int(now // TOTP_STEP_S)
    for candidate in range(step - TOTP_DRIFT_STEPS, step + TOTP_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def login(store: UserStore, name: str, password: str, code: str = "") -> User:
    """The user, logged in; else :class:`AccessError` with why (and the failure is logged)."""
    now = store.clock()
    with store.transaction() as db:
        creds = store.credentials(name)
        reason = _refusal(store, creds, name, password, code.strip(), now)
        if reason is None:
            db.execute("UPDATE users SET failed_count = 0, locked_until = 0 WHERE name = ?", (name,))
        elif creds is not None and reason != "locked":
            failed = creds.failed_count + 1
            locked = now + LOCKOUT_S if failed >= MAX_FAILURES else creds.locked_until
            db.execute(
                "UPDATE users SET failed_count = ?, locked_until = ? WHERE name = ?", (failed, locked, name)
            )
        db.execute(
            "INSERT INTO login_log (time, name, outcome, reason) VALUES (?, ?, ?, ?)",
            (now, name, "ok" if reason is None else "failed", reason or ""),
        )
    if reason is None:
        store._record(name, "login", name)
        return store.get(name)
    logger.warning("failed login for %r: %s", name, reason)
    store._record(name, "login.failed", name, {"reason": reason})
    if reason == "locked":
        assert creds is not None
        until = time.strftime("%H:%M:%S", time.localtime(creds.locked_until))
        raise AccessError(f"user {name!r} is locked after {MAX_FAILURES} failed logins, until {until}")
    if reason == "second factor required":
        raise AccessError(f"user {name!r} needs a second factor: the authenticator code or a recovery code")
    raise AccessError("login failed: wrong user name, password or code")  # says nothing more, on purpose


def _refusal(
    store: UserStore, creds: Credentials | None, name: str, password: str, code: str, now: float
) -> str | None:
    """Why this login is refused (None: accepted); consumes the code that let it in."""
    if creds is None:
        store.hasher.hash(password)  # the same work as a real check: timing does not tell names
        return "unknown user"
    if creds.locked_until > now:
        return "locked"
    if not _password_ok(store, creds.password_hash, password):
        return "wrong password"
    if creds.totp_secret is None:
        return None
    if not code:
        return "second factor required"
    step = _matching_step(creds.totp_secret, code, now)
    if step is not None:
        if step <= creds.totp_last_step:
            return "code already used"
        store.db.execute("UPDATE users SET totp_last_step = ? WHERE name = ?", (step, name))
        return None
    for rowid, digest in store.recovery_hashes(name):
        if _password_ok(store, digest, code.lower()):
            store.db.execute("DELETE FROM recovery_codes WHERE rowid = ?", (rowid,))
            return None
    return "wrong code"
