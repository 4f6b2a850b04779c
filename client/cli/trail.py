"""``coffre audit``: the regulator's trail, exported through the API and verified offline
(``client.trail``, ``client.trail_verify``).

``audit verify`` needs nothing but the export file and the trail's public key (or its
published key set, for a trail whose key rotated): it runs
``client.trail_verify`` on this machine, with no server, no database and no ``COFFRE_*``
configuration. The other commands talk to the API with a regulator token
(``audit public-key`` and ``audit keys`` need none).
"""

from __future__ import annotations

import base64
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from client.cli.common import (
    DEFAULT_URL,
    SinceOption,
    TokenOption,
    UntilOption,
    UrlOption,
    client,
    err,
    fail,
    out,
    parse_instant,
    transfer_bar,
)
from client.sdk import CoffreClient
from client.trail_verify import (
    TrailVerificationError,
    load_checkpoint,
    load_key_set,
    parse_public_key,
    verify_file,
)
from wire.errors import CoffreError, InvalidInput

audit_app = typer.Typer(
    help="The regulator's audit trail: verifiable exports, checkpoints, offline verification.",
    no_args_is_help=True,
)


class ExportFormat(StrEnum):
    """What ``audit export`` writes."""

    jsonl = "jsonl"
    fhir = "fhir"


PublicKeyOption = Annotated[
    str | None,
    typer.Option(
        "--public-key",
        metavar="B64|@FILE",
        help="The trail's public key (base64 or hex), or @FILE holding it "
        "(as `coffre audit public-key` prints it). Obtain it independently of the export.",
    ),
]


KeySetOption = Annotated[
    Path | None,
    typer.Option(
        "--keys",
        metavar="KEYSET.json",
        help="The trail's published key set (every key with its validity period), as "
        "the operator publishes it (`coffre audit keys` fetches the server's copy).",
    ),
]


@audit_app.command("verify")
def verify(
    export: Annotated[
        Path, typer.Argument(help="A JSON Lines or FHIR export from `coffre audit export`.")
    ],
    public_key: PublicKeyOption = None,
    keys: KeySetOption = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            metavar="CHECKPOINT.json",
            help="A checkpoint you already hold (a checkpoint file, or an earlier export): "
            "the export must prove it extends it.",
        ),
    ] = None,
) -> None:
    """Verify an export OFFLINE: signatures, inclusion proofs, hash chains, completeness.

    Exits 0 and describes what was proved, or 1 naming the first line that failed.
    """
    key = _public_key(public_key) if public_key is not None else None
    checkpoint = _previous(previous) if previous is not None else None
    try:
        key_set = load_key_set(keys) if keys is not None else None
    except CoffreError as error:
        fail(escape(f"--keys {keys} is not a trail key set: {error.detail}"))
    try:
        report = verify_file(export, key, checkpoint, key_set=key_set)
    except CoffreError as error:  # TrailVerificationError, or a malformed checkpoint
        what = "" if isinstance(error, TrailVerificationError) else f"{error.code}: "
        fail(escape(f"verification FAILED: {what}{error.detail}"))
    if key is None and key_set is None:
        err().print(
            "[bold yellow]WARNING: no public key given: only self-consistency was checked.[/] "
            "An export re-signed throughout with another key would pass; verify again with "
            "--keys (or --public-key) and the trail keys published by the operator.",
            soft_wrap=True,
        )
    out().print(report.describe(), markup=False, soft_wrap=True)


@audit_app.command("export")
def export(
    target: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Where to write the export.")
    ],
    patient: Annotated[str | None, typer.Option(help="One patient's trail (an INS).")] = None,
    actor: Annotated[
        str | None, typer.Option(help="One actor's trail (an RPPS number or a service name).")
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    format_: Annotated[
        ExportFormat, typer.Option("--format", help="JSON Lines, or a FHIR R4 Bundle.")
    ] = ExportFormat.jsonl,
    from_size: Annotated[
        int | None,
        typer.Option(min=0, help="Size of a checkpoint you hold: adds the consistency proof."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Export a verifiable trail (regulators only): a patient, an actor and/or a window."""
    if patient and actor:
        fail("pass --patient or --actor, not both")
    if target.exists() and not force:
        fail(f"{target} exists; pass --force to replace it")
    with client(url, token) as coffre, transfer_bar("exporting the trail") as progress:
        written = coffre.trail_export(
            target,
            patient_id=patient,
            actor_id=actor,
            since=parse_instant(since, "since"),
            until=parse_instant(until, "until"),
            format=format_.value,
            from_size=from_size,
            progress=progress,
        )
    _note(
        f"{written} bytes written; check them with `coffre audit verify {target} "
        "--public-key KEY` (not verified yet)"
    )
    out().print(str(target), markup=False, soft_wrap=True)


@audit_app.command("checkpoint")
def checkpoint(
    sign: Annotated[
        bool, typer.Option("--sign", help="Sign one now over the trail as it is.")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Print the latest signed checkpoint as JSON (keep it for `verify --previous`)."""
    with client(url, token) as coffre:
        answer = coffre.trail_checkpoint(sign=sign)
    _print_json(answer)
    _note(f"size {answer.get('size')}, signed {answer.get('time')} by key {answer.get('key_id')}")


@audit_app.command("public-key")
def public_key(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the key and its key id as JSON.")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Print the trail's public key (base64); no token needed."""
    # The route is public: a token is sent only if one is configured.
    with CoffreClient(url, token or "") as coffre:
        key, key_id = coffre.trail_public_key()
    encoded = base64.b64encode(key).decode("ascii")
    if as_json:
        _print_json({"public_key": encoded, "key_id": key_id})
    else:
        typer.echo(encoded)
    _note(f"key id {key_id}: compare it with the key the operator publishes out of band")


@audit_app.command("keys")
def keys_(
    target: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write it to FILE.")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Print the trail's key set (every key and its validity period); no token needed."""
    with CoffreClient(url, token or "") as coffre:
        key_set = coffre.trail_keys()
    text = json.dumps(key_set.to_json(), indent=2, sort_keys=True) + "\n"
    if target is None:
        typer.echo(text, nl=False)
    else:
        target.write_text(text, encoding="utf-8")
    err().print(
        f"{len(key_set.keys)} key(s): compare them with the key set the operator "
        "publishes out of band",
        markup=False,
        soft_wrap=True,
    )


@audit_app.command("consistency")
def consistency(
    old: Annotated[int, typer.Argument(min=0, help="The smaller tree size.")],
    new: Annotated[int, typer.Argument(min=0, help="The larger tree size.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Print the RFC 9162 proof that the trail of NEW entries extends that of OLD."""
    with client(url, token) as coffre:
        _print_json(coffre.trail_consistency(old, new))


def _public_key(value: str) -> bytes:
    """``--public-key``: base64 or hex, or ``@FILE`` with either (or `--json` output)."""
    if not value.startswith("@"):
        return parse_public_key(value)
    text = Path(value[1:]).expanduser().read_text(encoding="utf-8").strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text)["public_key"])
        except (ValueError, KeyError, TypeError):
            raise InvalidInput("no public_key in the key file", field="public_key") from None
    return parse_public_key(text)


def _previous(path: Path) -> dict[str, Any]:
    """``--previous``: a checkpoint file, or the checkpoint of an earlier export."""
    try:
        return load_checkpoint(path)
    except TrailVerificationError as error:
        fail(escape(f"--previous {path} holds no checkpoint: {error.detail}"))


def _note(text: str) -> None:
    # on stderr, as written: paths and key ids are never read as rich markup
    err().print(text, markup=False, soft_wrap=True)


def _print_json(data: Any) -> None:
    # plain echo: one exact JSON document on stdout, never wrapped or styled
    typer.echo(json.dumps(data, indent=2, sort_keys=True))
