"""The audit log: hash chain + row signatures + signed checkpoints detect every kind of tampering."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trafficai.access.audit import AuditLog, AuditRow, Checkpoint, chain_hash, verify, verify_rows
from trafficai.access.signing import SigningKey
from trafficai.errors import AuditError

N_ROWS = 12
FIELDS = ("time", "user", "action", "target", "detail")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[AuditRow], SigningKey, Checkpoint]:
    folder = tmp_path_factory.mktemp("audit")
    with AuditLog(folder / "audit.sqlite", folder / "key.pem") as log:
        for i in range(N_ROWS):
            log.record(f"user{i % 3}", "command.Override", f"C{i}", {"outcome": "applied", "i": i})
        point = log.checkpoint()
        return list(log.rows()), log.key, point


def _forged(rows: list[AuditRow], position: int, key: SigningKey) -> AuditRow:
    """A well-formed row for ``position`` (1-based), chained to the row before it."""
    prev = rows[position - 2].hash if position > 1 else "0" * 64
    fields = (position, "2030-01-01T00:00:00", "mallory", "command.Override", "C0", "{}")
    digest = chain_hash(prev, *fields)
    return AuditRow(*fields, prev, digest, key.sign_hex(digest))


MUTATIONS = st.one_of(
    st.tuples(st.just("edit"), st.integers(1, N_ROWS), st.sampled_from(FIELDS), st.booleans()),
    st.tuples(st.just("delete"), st.integers(1, N_ROWS - 1)),
    # inserted anywhere; appended after the last row only by someone without the key (a row appended
    # with the log's own key is a legitimate write)
    st.tuples(st.just("insert"), st.integers(1, N_ROWS + 1), st.booleans()).filter(
        lambda m: not (m[2] and m[1] == N_ROWS + 1)
    ),
    st.tuples(st.just("reorder"), st.integers(1, N_ROWS), st.integers(1, N_ROWS)).filter(
        lambda m: m[1] != m[2]
    ),
    st.tuples(st.just("truncate"), st.integers(1, N_ROWS)),
)


def _mutate(rows: list[AuditRow], mutation: tuple, key: SigningKey) -> tuple[list[AuditRow], int | None]:  # type: ignore[type-arg]
    """The tampered rows and the row (1-based) that verification must name (None: a cut tail)."""
    kind, *args = mutation
    out = list(rows)
    if kind == "edit":
        position, field, rehash = args
        row = out[position - 1]
        changed = dataclasses.replace(row, **{field: getattr(row, field) + "x"})
        if rehash:  # the editor also fixes the row's own hash (but cannot sign it)
            digest = chain_hash(
                changed.prev_hash,
                changed.seq,
                changed.time,
                changed.user,
                changed.action,
                changed.target,
                changed.detail,
            )
            changed = dataclasses.replace(changed, hash=digest)
        out[position - 1] = changed
        return out, position
    if kind == "delete":
        del out[args[0] - 1]
        return out, args[0]
    if kind == "insert":
        position, own_key = args
        out.insert(position - 1, _forged(rows, position, key if own_key else _other_key()))
        # without the key the inserted row's signature fails; signed with the log's own key it is a
        # well-formed row, and the chain breaks at the row it pushed down
        return out, position + 1 if own_key else position
    if kind == "reorder":
        i, j = sorted(args)
        out[i - 1], out[j - 1] = out[j - 1], out[i - 1]
        return out, i
    del out[N_ROWS - args[0] :]
    return out, None


_OTHER: list[SigningKey] = []


def _other_key() -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not _OTHER:
        _OTHER.append(SigningKey(Ed25519PrivateKey.generate()))
    return _OTHER[0]


def test_an_untouched_log_verifies(built: tuple[list[AuditRow], SigningKey, Checkpoint]) -> None:
    rows, key, point = built
    result = verify_rows(rows, key, [point])
    assert (result.rows, result.last_seq, result.checkpoints) == (N_ROWS, N_ROWS, 1)


@settings(max_examples=300, deadline=None)
@given(mutation=MUTATIONS)
def test_every_edit_deletion_insertion_reordering_and_truncation_is_detected(
    built: tuple[list[AuditRow], SigningKey, Checkpoint],
    mutation: tuple,  # type: ignore[type-arg]
) -> None:
    rows, key, point = built
    tampered, first_broken = _mutate(rows, mutation, key)
    with pytest.raises(AuditError) as caught:
        verify_rows(tampered, key, [point])  # the exported checkpoint of the last row, kept elsewhere
    message = str(caught.value)
    if first_broken is None:
        assert "truncated" in message or "differs from the checkpoint" in message or "broken" in message
        if mutation[0] == "truncate":
            assert f"ends at row {N_ROWS - mutation[1]}" in message
    else:
        assert re.search(rf"broken at row {first_broken}\b", message), message
    if mutation[0] != "truncate" and first_broken is not None:
        with pytest.raises(AuditError, match=rf"broken at row {first_broken}\b"):
            verify_rows(tampered, key, [])  # the chain alone finds it too


def test_a_row_edited_in_the_database_is_named(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.sqlite", tmp_path / "k.pem") as log:
        for i in range(5):
            log.record("ann", "login", "ann", {"i": i})
    with sqlite3.connect(tmp_path / "a.sqlite") as db:
        db.execute("UPDATE audit SET user = 'bob' WHERE seq = 3")
    with (
        AuditLog(tmp_path / "a.sqlite", tmp_path / "k.pem") as log,
        pytest.raises(AuditError, match="broken at row 3: its content was edited"),
    ):
        verify(log)


def test_a_cut_tail_is_found_only_against_a_checkpoint(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.sqlite", tmp_path / "k.pem") as log:
        for i in range(5):
            log.record("ann", "login", "ann", {"i": i})
        (tmp_path / "kept-elsewhere.json").write_text(log.checkpoint().to_json())
    exported = Checkpoint.from_file(tmp_path / "kept-elsewhere.json")
    with sqlite3.connect(tmp_path / "a.sqlite") as db:
        db.execute("DELETE FROM audit WHERE seq >= 4")
        db.execute("DELETE FROM checkpoints")  # the intruder also removes the log's own checkpoints
    with AuditLog(tmp_path / "a.sqlite", tmp_path / "k.pem") as log:
        assert verify(log).rows == 3  # a plain chain cannot tell
        with pytest.raises(AuditError, match=r"truncated: it ends at row 3, but .* covers row 5"):
            verify(log, [exported])


def test_a_rewrite_with_the_key_differs_from_an_exported_checkpoint(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.sqlite", tmp_path / "k.pem") as log:
        log.record("ann", "command.Override", "C", {})
        exported = log.checkpoint()
    (tmp_path / "a.sqlite").unlink()
    with AuditLog(tmp_path / "a.sqlite", tmp_path / "k.pem") as log:  # rebuilt from scratch, signed
        log.record("bob", "command.Override", "C", {})
        with pytest.raises(AuditError, match="differs from the checkpoint"):
            verify(log, [exported])


def test_a_corrupt_audit_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(AuditError, match="cannot be opened"):
        AuditLog(tmp_path / "a.sqlite", tmp_path / "k.pem")


def test_a_checkpoint_is_written_every_hundred_rows(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "a.sqlite", tmp_path / "k.pem") as log:
        for i in range(201):
            log.record("ann", "x", "", {"i": i})
        assert [c.seq for c in log.checkpoints()] == [100, 200]
        assert verify(log).checkpoints == 2
