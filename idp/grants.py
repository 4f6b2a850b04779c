"""The development provider's grants and endpoints, as authlib asks them to be
written: how codes, refresh tokens and device codes are kept and found, PKCE with S256
only, ID tokens, and access tokens carrying the claims Coffre's resource server maps."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import (
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    DeviceCredentialDict,
)
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import KeySet

from idp.models import (
    ACCESS_TOKEN_SECONDS,
    AUDIENCE,
    CODE_SECONDS,
    DEVICE_CODE_SECONDS,
    OIDC_SCOPES,
    Client,
    Code,
    Person,
    RefreshToken,
)
from keys.provider import ALGORITHM
from vault import scopes
from vault.claims import claims_of

if TYPE_CHECKING:
    from idp.provider import Provider


def random_token(client: Any, grant_type: str, user: Any, scope: str) -> str:
    """A refresh token: 256 random bits (the provider keeps it, not its holder's name)."""
    return secrets.token_urlsafe(32)


class AccessTokens(JWTBearerTokenGenerator):
    """RFC 9068 access tokens with the claims Coffre's resource server maps."""

    def __init__(self, provider: Provider, **options: Any) -> None:
        super().__init__(provider.issuer, alg=ALGORITHM, **options)
        self.provider = provider

    def get_jwks(self) -> KeySet:
        # the current key only, as a set: the library then names it in the header (kid)
        return KeySet.import_key_set({"keys": [self.provider.keys[0].private_jwk()]})

    def get_audiences(self, client: Any, user: Any, scope: str) -> str:
        return AUDIENCE

    def get_amr(self, user: Person | None) -> list[str] | None:
        return list(user.amr) if user else None

    def get_acr(self, user: Person | None) -> str | None:
        return user.acr if user else None

    def get_extra_claims(
        self, client: Client, grant_type: str, user: Person | None, scope: str
    ) -> dict[str, Any]:
        actor = user.actor if user else client.service
        if actor is None:
            return {}
        claims = claims_of(actor)
        asked = [s for s in (scope or "").split() if scopes.parse(s)]
        # no SMART scope asked: the role's own (the rules of the space still apply)
        claims["scope"] = " ".join(
            [s for s in (scope or "").split() if s in OIDC_SCOPES]
            + (asked or scopes.full_scopes(actor.role).split())
        )
        return claims

    def _get_expires_in(self, client: Any, grant_type: str) -> int:
        return ACCESS_TOKEN_SECONDS


class AuthorizationCode(grants.AuthorizationCodeGrant):
    """Authorization code: codes kept in memory, single use, 5 minutes."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        item = Code(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=str(data.get("redirect_uri", "")),
            scope=request.scope or "",
            person=request.user,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            nonce=data.get("nonce"),
            auth_time=int(time.time()),
            expires_at=time.time() + CODE_SECONDS,
        )
        store = self.server.store
        with store.lock:
            store.prune()
            store.codes[code] = item

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        with self.server.store.lock:
            item = self.server.store.codes.get(code)
        if item is None or item.client_id != client.client_id or item.expires_at <= time.time():
            return None
        return item

    def delete_authorization_code(self, authorization_code: Code) -> None:
        with self.server.store.lock:
            self.server.store.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Person:
        return authorization_code.person


class S256Only(CodeChallenge):
    """PKCE for every client, public or confidential, with S256 only (never ``plain``)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required: code_challenge with method S256")
        super().validate_code_challenge(grant, redirect_uri)


class OpenIDCodeGrant(OpenIDCode):
    """OpenID Connect on the code grant: ID tokens signed with the current key."""

    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=False)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        with self.provider.store.lock:
            return any(code.nonce == nonce for code in self.provider.store.codes.values())

    def resolve_client_private_key(self, client: Any) -> KeySet:
        # a set of the current key: the ID token's header then names it (kid)
        return KeySet.import_key_set({"keys": [self.provider.keys[0].private_jwk()]})

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        return {"iss": self.provider.issuer, "exp": int(time.time()) + ACCESS_TOKEN_SECONDS}

    def get_encode_header(self, client: Any) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": self.provider.keys[0].key_id}

    def get_client_algorithm(self, client: Any) -> str:
        return ALGORITHM

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return UserInfo({"sub": user.get_user_id(), **claims_of(user.actor)})


class Refresh(grants.RefreshTokenGrant):
    """Refresh token grant, a new refresh token at each use."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        with self.server.store.lock:
            item = self.server.store.refresh.get(refresh_token)
        if item is None or item.is_revoked() or item.is_expired():
            return None
        return item

    def authenticate_user(self, refresh_token: RefreshToken) -> Person | None:
        return refresh_token.person

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        # rotation: a refresh token is good once (a stolen copy is found out)
        with self.server.store.lock:
            refresh_token.revoked = True


class DeviceCode(DeviceCodeGrant):
    """Device code grant (RFC 8628): polls answer pending, slow_down, or the tokens once."""

    def query_device_credential(self, device_code: str) -> DeviceCredentialDict | None:
        with self.server.store.lock:
            return self.server.store.devices.get(device_code)

    def query_user_grant(self, user_code: str) -> tuple[Person, bool] | None:
        with self.server.store.lock:
            return self.server.store.device_grants.get(user_code)

    def should_slow_down(self, credential: DeviceCredentialDict) -> bool:
        store, now = self.server.store, time.monotonic()
        code = str(credential["device_code"])
        with store.lock:
            last = store.polls.get(code)
            store.polls[code] = now
        return last is not None and now - last < DeviceAuthorization.INTERVAL / 2

    def validate_token_request(self) -> None:
        super().validate_token_request()
        # a device code gives tokens once
        with self.server.store.lock:
            credential = self.server.store.devices.pop(str(self.request.credential["device_code"]))
            self.server.store.device_grants.pop(str(credential["user_code"]), None)


class DeviceAuthorization(DeviceAuthorizationEndpoint):
    """Device authorization endpoint: a user code for the page ``/idp/device``."""

    EXPIRES_IN = DEVICE_CODE_SECONDS
    INTERVAL = 2

    def __init__(self, provider: Provider) -> None:
        super().__init__(provider)
        self.provider = provider

    def get_verification_uri(self) -> str:
        return self.provider.url("/device")

    def save_device_credential(self, client_id: str, scope: str, data: dict[str, Any]) -> None:
        credential = DeviceCredentialDict(
            {**data, "client_id": client_id, "scope": scope or "", "expires_at": 0}
        )
        credential["expires_at"] = int(time.time()) + self.EXPIRES_IN
        with self.provider.store.lock:
            self.provider.store.prune()
            self.provider.store.devices[str(data["device_code"])] = credential


class Revocation(RevocationEndpoint):
    """Revocation (RFC 7009) of the refresh tokens the provider issued."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def __init__(self, provider: Provider) -> None:
        super().__init__(provider)
        self.provider = provider

    def query_token(self, token_string: str, token_type_hint: str | None) -> RefreshToken | None:
        with self.provider.store.lock:
            return self.provider.store.refresh.get(token_string)

    def revoke_token(self, token: RefreshToken, request: OAuth2Request) -> None:
        with self.provider.store.lock:
            token.revoked = True
