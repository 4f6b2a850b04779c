"""Whose bearer tokens the server accepts: the configured OpenID providers, the
embedded issuer, and the development OpenID provider where it runs.

The development provider's code (authlib, the demo's cast: ~10 MiB of a worker's
memory) is imported only where it runs: a production server never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keys.master import MasterKeys
from vault.issuers import Issuers, OidcIssuer
from vault.settings import Settings
from vault.tokens import TokenAuthority

if TYPE_CHECKING:
    from idp.provider import Provider

__all__ = ["development_provider", "issuers"]


def development_provider(settings: Settings, keys: MasterKeys, *, file: bool) -> Provider | None:
    """The embedded development OpenID provider, when this configuration runs it
    (``coffre.devprovider``); ``file``: whether its secrets live in the data directory."""
    if not settings.embedded_provider:
        return None
    from coffre import devprovider

    return devprovider.development_provider(settings, keys, file=file)


def issuers(
    settings: Settings, tokens: TokenAuthority, provider: Provider | None = None
) -> Issuers:
    """The issuers whose tokens this deployment accepts: the configured OpenID providers,
    the embedded issuer ``tokens`` unless ``COFFRE_EMBEDDED_ISSUER`` is off, and the
    embedded development provider when it runs here."""
    configured = [OidcIssuer(issuer) for issuer in settings.oidc_issuers]
    if provider is not None:
        from coffre.devprovider import provider_issuer

        configured.append(OidcIssuer(provider_issuer(provider), provider.fetch))
    return Issuers(configured, tokens if settings.embedded_issuer else None)
