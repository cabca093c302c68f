"""``trafficai audit show|verify|checkpoint``: the tamper-evident audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from trafficai.cli.output import err, out, print_json


def audit_show(
    limit: Annotated[int, typer.Option(help="How many rows, newest last")] = 50,
    user: Annotated[str | None, typer.Option(help="Only this user's rows")] = None,
    action: Annotated[str | None, typer.Option(help="Only actions starting with this")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per row on stdout")] = False,
) -> None:
    """List the audit log: who did what, when, to what, and the outcome."""
    from trafficai.access.audit import AuditLog

    with AuditLog(create=False) as log:
        rows = [
            r
            for r in log.rows()
            if (user is None or r.user == user) and (action is None or r.action.startswith(action))
        ]
    for row in rows[-limit:] if limit > 0 else rows:
        if as_json:
            print_json(
                {
                    "seq": row.seq,
                    "time": row.time,
                    "user": row.user,
                    "action": row.action,
                    "target": row.target,
                    "detail": json.loads(row.detail),
                }
            )
            continue
        detail = json.loads(row.detail)
        outcome = detail.get("outcome") or detail.get("reason") or ""
        target = f" {row.target}" if row.target else ""
        tail = f"  [{outcome}]" if outcome else ""
        out.print(f"{row.seq:>6}  {row.time[:19]}  {row.user:<16} {row.action}{target}{tail}", markup=False)


def audit_verify(
    checkpoint: Annotated[
        list[Path] | None, typer.Option(help="An exported checkpoint (kept elsewhere) to check against")
    ] = None,
) -> None:
    """Check the chain, every row's signature and every checkpoint; exit 1 naming the first broken row."""
    from trafficai.access.audit import AuditLog, Checkpoint, verify

    extra = [Checkpoint.from_file(p) for p in checkpoint or []]
    with AuditLog(create=False) as log:
        result = verify(log, extra)
    out.print(
        f"audit log intact: {result.rows} rows, last row {result.last_seq}, "
        f"{result.checkpoints} signed checkpoints checked"
    )


def audit_checkpoint(
    output: Annotated[Path | None, typer.Option("--out", help="Write the checkpoint here (JSON)")] = None,
) -> None:
    """Sign a checkpoint of the last row now; keep the exported file elsewhere (it detects a cut tail)."""
    from trafficai.access.audit import AuditLog

    with AuditLog(create=False) as log:
        point = log.checkpoint()
    if output is None:
        typer.echo(point.to_json())
        return
    output.write_text(point.to_json() + "\n", encoding="utf-8")
    err.print(f"checkpoint of row {point.seq} written to {output}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=True, help="The hash-chained, signed audit log.")
    group.command("show")(audit_show)
    group.command("verify")(audit_verify)
    group.command("checkpoint")(audit_checkpoint)
    app.add_typer(group, name="audit")
