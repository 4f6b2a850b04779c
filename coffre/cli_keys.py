"""``coffre keys``, the operator's: master, trail and token keys kept apart.

A reader's own device keys are the client's (``coffre devices``). These run next to the
data, with the ``COFFRE_*`` settings; none prints a secret: new keys go to files made
0600, or into the key file of their source.

In embedded mode each command that changes keys holds the data directory's lock, so it
refuses to run beside ``coffre serve``: a server keeps the keys it started with, and
would not open rows rewrapped under a key it has not loaded (or would sign with a
retired trail key).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from client.cli.common import err, fail, out
from coffre import bootstrap, keysources
from coffre.bootstrap import DataDirLocked, lock_data_dir
from coffre.cli_admin import opened, settings
from keys.checkpoint import CheckpointSigner
from keys.keyring import ROTATION_BATCH, Keyring
from keys.master import MasterKey
from keys.sources import FileKeySource, KeyEntry
from vault.settings import Settings

keys_app = typer.Typer(help="Master, trail and token keys.", no_args_is_help=True)


class Kind(StrEnum):
    """The kinds of keys ``coffre keys new`` makes."""

    master = "master"
    trail = "trail"
    token = "token"  # noqa: S105 - a kind of key, not a secret


@contextmanager
def exclusive(config: Settings) -> Iterator[None]:
    """Embedded mode: hold the data directory's lock (no ``coffre serve`` meanwhile)."""
    if not config.embedded:
        yield
        return
    try:
        fd = lock_data_dir(config)
    except DataDirLocked as locked:
        fail(f"{locked}; keys change only while no server runs on it")
    try:
        yield
    finally:
        os.close(fd)


@keys_app.command("status")
def status() -> None:
    """Where each key comes from, its ids, and what each master key still wraps; a key
    still derived from the master key is logged as a warning on stderr."""
    with opened() as coffre:
        config, trail = coffre.settings, coffre.trail
        counts = coffre.keyring.wrapped_counts()
        key_set, origins = trail.keys.key_set(), trail.keys.origins()
        master = coffre.keyring.master
    console = out()
    console.print(f"master keys ({keysources.master_source(config).description}):", soft_wrap=True)
    for key_id in master.ids:
        role = "current" if key_id == master.current.key_id else "older"
        console.print(f"  {key_id}  {role}, wraps {counts.pop(key_id, 0)} key(s)")
    for key_id, count in sorted(counts.items()):
        console.print(f"  {key_id}  NOT CONFIGURED, wraps {count} key(s)")
    console.print(f"trail keys (signing: {trail.signer.key_id}):")
    for key in key_set.keys:
        period = key.to_json()
        console.print(
            f"  {key.key_id}  {period['not_before'] or 'start'} to {period['not_after'] or 'now'}"
            f"  ({origins.get(key.key_id, '')})",
            soft_wrap=True,
        )
    tokens = coffre.tokens
    issuer = "external issuer" if config.token_public_key else f"current {tokens.key_id}"
    console.print(f"token issuer: {issuer}")


@keys_app.command("rotate-master")
def rotate_master(
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="First add a new random master key, current from now (key file only).",
        ),
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Key-store rows rewrapped per transaction.")
    ] = ROTATION_BATCH,
) -> None:
    """Rewrap every key-store row under the current master key.

    Resumable (run it again after an interruption: it finishes), idempotent, with
    progress on stderr. Afterwards `coffre keys retire-master OLD_ID` retires an older
    key. With PostgreSQL, deploy the new key list (new key first) to every process
    before running it: a process without the new key cannot open rewrapped rows.
    """
    config = settings()
    with exclusive(config):
        if new:
            _add_master(config)
        keys = bootstrap.master_keys(config)
        store = bootstrap.key_store(config)
        try:
            keyring = Keyring(keys, store)
            console = err()

            def progress(done: int, total: int) -> None:
                # one plain line per committed batch: readable in logs, and by scripts
                console.print(f"rewrapped {done}/{total}", highlight=False)
                sys.stderr.flush()

            done = keyring.rotate(progress=progress, batch_size=batch_size)
            left = {k: n for k, n in store.count_by_master().items() if k != keys.current.key_id}
        finally:
            store.close()
    out().print(f"{done} key(s) rewrapped under {keys.current.key_id}")
    if left:
        fail(f"still under older keys (made meanwhile?): {left}; run it again")
    older = [key_id for key_id in keys.ids if key_id != keys.current.key_id]
    if older:
        err().print(f"no key is wrapped under {', '.join(older)} any more: "
                    "`coffre keys retire-master ID` retires them")  # fmt: skip
    for warning in keysources.legacy_warnings(config):
        err().print(f"warning: {warning}", soft_wrap=True)


def _add_master(config: Settings) -> None:
    """Add a new current master key to the key file, unless a rotation is unfinished."""
    source = keysources.master_source(config)
    if not isinstance(source, FileKeySource):
        fail(
            f"the master keys come from the {source.description}: put a new key first "
            "there (`coffre keys new master --out FILE`), restart every process, then run "
            "`coffre keys rotate-master` without --new"
        )
    keys = bootstrap.master_keys(config)
    store = bootstrap.key_store(config)
    try:
        unfinished = [k for k in store.count_by_master() if k != keys.current.key_id]
    finally:
        store.close()
    if unfinished:
        fail(
            f"a rotation to {keys.current.key_id} is unfinished (rows under "
            f"{', '.join(sorted(unfinished))}): run `coffre keys rotate-master` without --new"
        )
    key = MasterKey.generate()
    source.add_current(key.to_entry())
    err().print(f"new current master key {key.key_id} added to {source.description}")


@keys_app.command("retire-master")
def retire_master(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The older master key.")],
) -> None:
    """Retire an older master key; refused while any key-store row is wrapped under it."""
    config = settings()
    with exclusive(config):
        keys = bootstrap.master_keys(config)
        if key_id == keys.current.key_id:
            fail(f"{key_id} is the current master key; rotate to a new one first")
        store = bootstrap.key_store(config)
        try:
            remaining = store.count_wrapped_by(key_id)
        finally:
            store.close()
        if remaining:
            fail(
                f"{remaining} key(s) are still wrapped under {key_id}: "
                "run `coffre keys rotate-master` first"
            )
        source = keysources.master_source(config)
        if key_id not in keys.ids:
            out().print(f"{key_id} is not configured (already retired)")
            return
        if isinstance(source, FileKeySource):
            source.remove(key_id)
            out().print(f"{key_id} retired: removed from {source.description}")
            return
    out().print(f"no key is wrapped under {key_id}: remove it from {source.description}")


@keys_app.command("rotate-trail")
def rotate_trail() -> None:
    """Replace the trail's signing key by a new one (key file), or record the one the
    environment now names; the old key's published period ends now.

    Afterwards publish the key set (`coffre keys publish-trail`) and restart every
    process that signs (the server, projection workers).
    """
    config = settings()
    source = keysources.trail_source(config)
    if source is None:
        fail(
            "the trail key is still derived from the master key: set COFFRE_TRAIL_KEYS to "
            "a key of its own (`coffre keys new trail --out FILE`) and restart"
        )
    with exclusive(config), opened() as coffre:
        trail = coffre.trail
        if isinstance(source, FileKeySource):
            entry = CheckpointSigner.generate()
            source.replace([entry])  # the old secret is not kept: its public key is
            signer = CheckpointSigner.from_entry(entry)
            trail.keys.adopt(signer, coffre.vault.clock.now(), source.description)
        else:
            signer = trail.signer  # recorded by build() if it was new
        published = trail.keys.get(signer.key_id)
    assert published is not None
    out().print(signer.key_id)
    since = published.to_json()["not_before"] or "the start"
    err().print(
        f"the trail signs with {signer.key_id} since {since}; publish the key set "
        "(`coffre keys publish-trail`) and restart the processes that sign",
        soft_wrap=True,
    )


@keys_app.command("publish-trail")
def publish_trail(
    target: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write it to FILE.")
    ] = None,
) -> None:
    """Print the trail's key set (every key and its validity period) for regulators."""
    with opened() as coffre:
        document = coffre.trail.keys.key_set().to_json()
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if target is None:
        typer.echo(text, nl=False)
        return
    target.write_text(text, encoding="utf-8")
    out().print(str(target))


@keys_app.command("new")
def new_key(
    kind: Annotated[Kind, typer.Argument(help="master, trail or token.")],
    target: Annotated[Path, typer.Option("--out", metavar="FILE", help="A new file (mode 0600).")],
) -> None:
    """Write a new random key, as one `keyid:base64key` line, to a new file; prints its id.

    For sources Coffre does not write (COFFRE_MASTER_KEYS, COFFRE_TRAIL_KEYS,
    COFFRE_TOKEN_KEYS): copy the line into the secret manager, then delete the file.
    """
    entry: KeyEntry
    if kind is Kind.master:
        entry = MasterKey.generate().to_entry()
    elif kind is Kind.trail:
        entry = CheckpointSigner.generate()
    else:
        entry = keysources.new_token_key()
    if not FileKeySource(target, f"{kind.value} key").create([entry]):
        fail(f"{target} exists; choose a new file")
    out().print(entry.key_id)
