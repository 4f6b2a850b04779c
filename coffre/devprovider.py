"""The embedded development OpenID provider, as the composition root builds it: its
people and services (the demo's), its clients and their secrets, its keys (derived from
the embedded issuer's), and how the resource server trusts it.

``file``: whether this deployment keeps files in its data directory (embedded mode);
otherwise the clients' secrets derive from the master key and nothing is written.
"""

from __future__ import annotations

import base64

from coffre import keysources
from coffre.cast import demo_people, demo_services
from idp.models import AUDIENCE, CLI_CLIENT, DEVICE_CODE_GRANT, WEB_CLIENT, Client
from idp.provider import Provider
from keys.master import MasterKeys
from keys.provider import provider_keys
from keys.sources import FileKeySource, KeyEntry
from vault.claims import ROLE_CLAIM, ClaimsMapping
from vault.issuers import IssuerSettings
from vault.settings import Settings
from wire.values import Role


def provider_issuer(provider: Provider) -> IssuerSettings:
    """The resource server's view of the development provider: one more OpenID provider,
    whose discovery document and keys are read in process rather than over HTTP.

    It asserts every role, the regulator's included, as the embedded token issuer does:
    a check made for configured providers (a person-facing provider never asserts a
    regulator) that a development provider cannot pass, which is why it is built here
    (``model_construct``, no validation) and never from configuration, and why
    production refuses it.
    """
    return IssuerSettings.model_construct(
        issuer=provider.issuer,
        audience=AUDIENCE,
        roles=frozenset(Role),
        claims=ClaimsMapping(role=ROLE_CLAIM),
        clients={
            client.client_id: client.service.id
            for client in provider.clients.values()
            if client.service is not None
        },
        jwks_min_refresh=0.0,
    )


#: where the development provider keeps its confidential clients' secrets
IDP_SECRETS = "idp.secrets"


def client_secrets(
    settings: Settings, master: MasterKeys, client_ids: list[str], *, file: bool
) -> dict[str, str]:
    """The confidential clients' secrets: in embedded mode ``idp.secrets`` in the data
    directory (made 0600 on first use, like the key files); otherwise derived from the
    master key (no file next to a server's code); ``COFFRE_WEB_CLIENT_SECRET`` for the web
    page's client if set."""
    if file:
        source = FileKeySource(settings.data_dir / IDP_SECRETS, "client secret")
        if not source.exists():
            source.create([KeyEntry.generate(client_id) for client_id in client_ids])
        held = {entry.key_id: entry.secret for entry in source.load()}
        for client_id in client_ids:
            if client_id not in held:
                entry = KeyEntry.generate(client_id)
                source.add_current(entry)
                held[client_id] = entry.secret
    else:
        held = {c: master.derive(f"idp-client-secret:{c}") for c in client_ids}
    secrets = {
        client_id: base64.urlsafe_b64encode(held[client_id]).decode("ascii").rstrip("=")
        for client_id in client_ids
    }
    if settings.web_client_secret is not None:
        secrets[WEB_CLIENT] = settings.web_client_secret.get_secret_value()
    return secrets


def development_provider(settings: Settings, master: MasterKeys, *, file: bool) -> Provider | None:
    """The embedded development OpenID provider, when this configuration runs it
    (``Settings.embedded_provider``): its keys derive from the embedded issuer's
    (``keys.provider``), its people and services are the demo's (``coffre.cast``)."""
    if not settings.embedded_provider:
        return None
    services = demo_services()
    secrets = client_secrets(settings, master, [WEB_CLIENT, *(s.id for s in services)], file=file)
    base = settings.base_url
    clients = [
        Client(
            CLI_CLIENT,
            frozenset({"authorization_code", "refresh_token", DEVICE_CODE_GRANT}),
            loopback=True,
        ),
        Client(
            WEB_CLIENT,
            frozenset({"authorization_code", "refresh_token"}),
            secrets[WEB_CLIENT],
            redirect_uris=(f"{base}/auth/callback",),
        ),
        *(
            Client(s.id, frozenset({"client_credentials"}), secrets[s.id], service=s)
            for s in services
        ),
    ]
    keys = provider_keys(keysources.issuer_keys(settings, master))
    return Provider(f"{base}/idp", keys, demo_people(), clients)
