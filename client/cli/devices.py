"""``coffre devices``: this machine's reader device, and the owner's other devices.

A device key (``--reader-key``, made here if there is none, never overwritten) is added
with a proof of possession and stays pending — it receives no data key — until
approved: with the enrolment code of a person's letter (``enrol``, or ``approve
--code``), by one of the owner's approved devices (``approve`` run where that device's
key is), or, for professionals and services, by their enrolment service
(``approve-member``). ``list`` shows every device and marks this one; ``revoke`` ends
one for good.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from client.cli.common import (
    DEFAULT_READER_KEY,
    DEFAULT_URL,
    CodeOutOption,
    JsonOption,
    ReaderKeyOption,
    TokenOption,
    UrlOption,
    client,
    code_file,
    err,
    fail,
    out,
    show,
)
from client.cli.render import when
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from wire.dto import DeviceInfo

devices_app = typer.Typer(
    help="Reader devices: the keys documents are released to, once approved.",
    no_args_is_help=True,
)

NameOption = Annotated[str, typer.Option("--name", help="How you will recognise this device.")]
EnrolmentCodeOption = Annotated[
    str,
    typer.Option(
        "--code",
        prompt="Enrolment code (from the letter)",
        hide_input=True,
        # asked for when omitted: a command line is visible to other users (ps)
        help="The enrolment code of your letter (omit it to be asked for it, unechoed).",
    ),
]
ApprovalCodeOption = Annotated[
    str | None,
    typer.Option(
        "--code",
        envvar="COFFRE_ENROLMENT_CODE",
        show_envvar=True,
        help="Approve with your enrolment code (prefer the environment); without it, the "
        "device at --reader-key, already approved, signs the approval.",
    ),
]
KeyIdArg = Annotated[str, typer.Argument(help="The device's key id (see `coffre devices list`).")]
RoleArg = Annotated[str, typer.Argument(help="The owner's role: professional or service.")]
OwnerArg = Annotated[str, typer.Argument(help="The owner's id (RPPS number, service id).")]
DEFAULT_NAME = "coffre command line"


@devices_app.command("add")
def add(
    name: NameOption = DEFAULT_NAME,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    reader_key: ReaderKeyOption = Path(DEFAULT_READER_KEY),
) -> None:
    """Add this machine's device key (made if there is none); prints its key id. It is
    pending until approved."""
    _add(url, token, reader_key, name)


@devices_app.command("enrol")
def enrol(
    code: EnrolmentCodeOption,
    name: NameOption = DEFAULT_NAME,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    reader_key: ReaderKeyOption = Path(DEFAULT_READER_KEY),
) -> None:
    """A patient's or a representative's first device: add it and approve it with the
    enrolment code of their letter; prints its key id."""
    _add(url, token, reader_key, name, code)


@devices_app.command("approve")
def approve(
    key_id: KeyIdArg,
    code: ApprovalCodeOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    reader_key: ReaderKeyOption = Path(DEFAULT_READER_KEY),
) -> None:
    """Approve one of your pending devices: with your enrolment code, or signed by the
    approved device at --reader-key. Check its key id on the new device first."""
    with client(url, token, None if code else reader_key) as coffre:
        _said(coffre.approve_device(key_id, code=code))


@devices_app.command("list")
def list_devices(
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    reader_key: ReaderKeyOption = Path(DEFAULT_READER_KEY),
    as_json: JsonOption = False,
) -> None:
    """Your devices, whatever their status; `*` marks the one at --reader-key."""
    with client(url, token) as coffre:
        found = coffre.devices()
    this = _local_key_id(reader_key)
    show(found, as_json, lambda d: devices_table(d, this), json_data=[_plain(d) for d in found])


@devices_app.command("revoke")
def revoke(key_id: KeyIdArg, url: UrlOption = DEFAULT_URL, token: TokenOption = None) -> None:
    """Revoke one of your devices: it never receives a document's key again."""
    with client(url, token) as coffre:
        coffre.revoke_device(key_id)
    err().print(f"revoked {key_id}")


@devices_app.command("code")
def code(
    patient_id: Annotated[str, typer.Argument(help="The patient's INS (15 characters).")],
    code_out: CodeOutOption = None,
    representative: Annotated[
        bool, typer.Option("--representative", help="The INS is a representative's.")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Issue a person's enrolment code (enrolment services only). It is never printed:
    with --code-out it goes to FILE (a new file, mode 0600), for the letter."""
    role = "representative" if representative else "patient"
    with client(url, token) as coffre, code_file(code_out) as keep_code:
        keep_code(coffre.issue_enrolment_code(role, patient_id))
    err().print(f"enrolment code issued{f', written to {code_out}' if code_out else ''}")


@devices_app.command("members")
def members(
    role: RoleArg,
    owner: OwnerArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The devices of a professional or a service (enrolment services only)."""
    with client(url, token) as coffre:
        found = coffre.member_devices(role, owner)
    show(found, as_json, devices_table, json_data=[_plain(d) for d in found])


@devices_app.command("approve-member")
def approve_member(
    role: RoleArg, owner: OwnerArg, key_id: KeyIdArg, url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:  # fmt: skip
    """Approve a professional's or a service's pending device (enrolment services only),
    once its owner told you its key id."""
    with client(url, token) as coffre:
        _said(coffre.approve_member_device(role, owner, key_id))


@devices_app.command("revoke-member")
def revoke_member(
    role: RoleArg, owner: OwnerArg, key_id: KeyIdArg, url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:  # fmt: skip
    """Revoke a professional's or a service's device (enrolment services only)."""
    with client(url, token) as coffre:
        coffre.revoke_member_device(role, owner, key_id)
    err().print(f"revoked {key_id}")


def devices_table(devices: Sequence[DeviceInfo], this: str | None = None) -> Table:
    """An owner's devices: key id, name, status, and when each step happened."""
    table = Table(title="Devices")
    for column in ("", "key id", "name", "status", "requested", "approved", "revoked"):
        table.add_column(column, overflow="fold")
    styles = {"approved": "green", "pending": "yellow", "revoked": "red", "legacy": "dim"}
    for device in devices:
        approved = when(device.approved_at) if device.approved_at else ""
        table.add_row(
            "*" if device.key_id == this else "",
            device.key_id,
            Text(device.name or ""),  # as the owner typed it: never rich markup
            Text(device.status, style=styles.get(device.status, "")),
            when(device.requested_at),
            f"{approved} ({device.method})" if approved else "",
            when(device.revoked_at) if device.revoked_at else "",
        )
    return table


def _add(url: str, token: str | None, path: Path, name: str, code: str | None = None) -> None:
    # Add this machine's device (approved at once with ``code``); print its key id.
    with _device_client(url, token, path) as coffre:
        device = coffre.add_device(name) if code is None else coffre.enrol_device(name, code)
    out().print(device.key_id)
    _said(device)


@contextmanager
def _device_client(url: str, token: str | None, path: Path) -> Iterator[CoffreClient]:
    # This machine's device key: the one at ``path``, or a new one saved there (0600).
    path = path.expanduser()
    with client(url, token) as coffre:
        if path.exists():
            key = ReaderKey.load(path)
            if not key.can_sign:
                fail(f"{path} is a legacy reader key, which cannot prove it is yours; move "
                     "it away (or pass another --reader-key) to make a device key")  # fmt: skip
            err().print(f"using the device key at {path}")
        else:
            key = ReaderKey.generate()
            key.save(path)
            err().print(f"new device key saved to {path} (mode 0600)")
        coffre.reader_key = key
        yield coffre


def _said(device: DeviceInfo) -> None:
    if device.status == "approved":
        err().print(f"device {device.key_id} is approved ({device.method})")
    else:
        err().print(
            f"device {device.key_id} is {device.status}: approve it with your enrolment code "
            "(`coffre devices approve KEY_ID --code ...`), from an approved device "
            "(`coffre devices approve KEY_ID`), or ask your enrolment service"
        )


def _local_key_id(path: Path) -> str | None:
    try:
        return ReaderKey.load(path.expanduser()).key_id
    except (OSError, ValueError):
        return None


def _plain(device: DeviceInfo) -> dict[str, object]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in vars(device).items()}
