"""Access tokens of configured OpenID providers: keys generated here, documents in memory.

Each refusal is ``Unauthenticated`` (401) and an unreachable provider is
``IssuerUnavailable`` (503); the HTTP side (problems, nothing recorded) is
``tests/api/test_api_oidc.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import ValidationError

from domain.values import Actor, patient_id_from_number, professional_id_from_number
from tests.oidc import FakeProvider
from vault.claims import ClaimsMapping
from vault.issuers import Issuers, IssuerSettings, OidcIssuer
from vault.settings import Settings
from vault.tokens import TokenAuthority
from wire.errors import IssuerUnavailable, Unauthenticated
from wire.values import Profession, Role

RPPS = professional_id_from_number("8100000001")
INS = patient_id_from_number("2850775123456")
PROS = "coffre-pros"
PATIENTS = "coffre-patients"


def psc_claims(**overrides: Any) -> dict[str, Any]:
    """A professional's access token claims, as Pro Santé Connect names them."""
    return {
        "aud": PROS,
        "sub": "f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:" + RPPS,
        "SubjectNameID": "8" + RPPS,
        "given_name": "Claire",
        "family_name": "Bernard",
        "SubjectOrganization": "Cabinet Bernard",
        "SubjectRefPro": {"exercices": [{"codeProfession": "10", "activities": []}]},
        "scope": "openid user/DocumentReference.rs",
        **overrides,
    }


def pros_settings(provider: FakeProvider, **overrides: Any) -> IssuerSettings:
    """Professionals' provider: asserts the professional role only."""
    fields: dict[str, Any] = {
        "issuer": provider.issuer,
        "audience": PROS,
        "roles": ["professional"],
        **overrides,
    }
    return IssuerSettings(**fields)


def patients_settings(provider: FakeProvider) -> IssuerSettings:
    """Patients' provider: patients and representatives, the role in a claim."""
    return IssuerSettings(
        issuer=provider.issuer,
        audience=PATIENTS,
        roles=["patient", "representative"],
        claims=ClaimsMapping(role="coffre_role", patient_id="ins"),
    )


def issuers(*pairs: tuple[FakeProvider, IssuerSettings]) -> Issuers:
    """Issuers reading each provider's documents in memory."""
    return Issuers([OidcIssuer(settings, provider.fetch) for provider, settings in pairs])


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_a_professional_token_becomes_an_actor_named_by_its_claims(algorithm: str) -> None:
    psc = FakeProvider("https://psc.test", algorithm)
    trusted = issuers((psc, pros_settings(psc)))
    principal = trusted.authenticate(psc.token(psc_claims()))
    assert principal.actor == Actor(
        Role.PROFESSIONAL,
        RPPS,
        "Claire Bernard",
        profession=Profession.DOCTOR,
        organisation="Cabinet Bernard",
    )
    assert principal.issuer == "https://psc.test"
    assert {(g.context, g.resource) for g in principal.scopes} == {("user", "DocumentReference")}


def test_a_professional_known_by_adeli_alone_is_an_actor_too() -> None:
    # Professions not yet in the RPPS (some physiotherapists, for instance): PSC types
    # its national id by its first character, '0' + ADELI.
    psc = FakeProvider("https://psc.test", "ES256")
    trusted = issuers((psc, pros_settings(psc)))
    claims = psc_claims(
        SubjectNameID="0751234567",
        SubjectRefPro={"exercices": [{"codeProfession": "70", "activities": []}]},
    )
    actor = trusted.authenticate(psc.token(claims)).actor
    assert (actor.id, actor.profession) == ("751234567", Profession.PHYSIOTHERAPIST)
    unknown = psc_claims(SubjectNameID="3751234567")  # neither '8' + RPPS nor '0' + ADELI
    assert "not valid" in refused(trusted, psc.token(unknown))


def refused(trusted: Issuers, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        trusted.authenticate(token)
    return caught.value.detail


def test_expired_not_yet_valid_and_future_tokens_are_refused() -> None:
    psc = FakeProvider("https://psc.test")
    trusted = issuers((psc, pros_settings(psc, leeway=0)))
    now = int(time.time())
    assert "expired" in refused(trusted, psc.token(psc_claims(exp=now - 10)))
    assert "not valid yet" in refused(trusted, psc.token(psc_claims(nbf=now + 600)))
    assert refused(trusted, psc.token(psc_claims(iat=now + 600)))
    assert refused(trusted, psc.token(psc_claims(iat="yesterday")))


def test_missing_claims_wrong_audience_and_wrong_issuer_are_refused() -> None:
    psc, other = FakeProvider("https://psc.test"), FakeProvider("https://other.test")
    trusted = issuers((psc, pros_settings(psc)))
    assert refused(trusted, psc.token(psc_claims(aud="elsewhere")))
    claims = jwt.decode(psc.token(psc_claims()), options={"verify_signature": False})
    del claims["exp"]
    no_exp = jwt.encode(claims, psc.keys[psc.kid], algorithm="RS256", headers={"kid": psc.kid})
    assert refused(trusted, no_exp)
    # an issuer nobody configured
    assert "not trusted" in refused(trusted, other.token(psc_claims()))
    # a token naming the trusted issuer, signed by another provider's key of the same kid
    other.keys = {psc.kid: other.keys[other.kid]}
    other.issuer, other.kid = psc.issuer, psc.kid
    assert refused(trusted, other.token(psc_claims()))


def test_a_token_of_one_issuer_claiming_another_issuers_audience_is_refused() -> None:
    psc, fc = FakeProvider("https://psc.test"), FakeProvider("https://fc.test")
    trusted = issuers((psc, pros_settings(psc)), (fc, patients_settings(fc)))
    patient = {"aud": PATIENTS, "coffre_role": "patient", "ins": INS, "name": "Alice"}
    assert trusted.authenticate(fc.token(patient)).actor.id == INS
    # the patients' provider signs a token for the professionals' audience
    assert refused(trusted, fc.token({**patient, "aud": PROS}))
    assert refused(trusted, fc.token(psc_claims()))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_alg_none_and_hmac_with_the_public_key_are_refused() -> None:
    psc = FakeProvider("https://psc.test")
    trusted = issuers((psc, pros_settings(psc)))
    claims = jwt.decode(psc.token(psc_claims()), options={"verify_signature": False})
    unsigned = f"{_b64({'alg': 'none', 'kid': psc.kid})}.{_b64(claims)}."
    assert "algorithm" in refused(trusted, unsigned)
    # HS256 with the published public key as the shared secret: the classic confusion
    public_pem = (
        psc.keys[psc.kid].public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": psc.kid})
    signing_input = f"{header}.{_b64(claims)}".encode()
    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    confused = f"{signing_input.decode()}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert "algorithm" in refused(trusted, confused)
    # a token whose header says ES256 over an RSA key of the set
    assert refused(trusted, f"{_b64({'alg': 'ES256', 'kid': psc.kid})}.{_b64(claims)}.AAAA")


def test_a_patients_issuer_never_asserts_a_regulator() -> None:
    fc = FakeProvider("https://fc.test")
    trusted = issuers((fc, patients_settings(fc)))
    token = fc.token({"aud": PATIENTS, "coffre_role": "regulator", "ins": INS, "sub": "cnil"})
    assert "regulator" in refused(trusted, token)
    with pytest.raises(ValidationError, match="regulator"):
        IssuerSettings(
            issuer="https://fc.test",
            audience=PATIENTS,
            roles=["patient", "regulator"],
            claims=ClaimsMapping(role="coffre_role"),
        )


class Clock:
    """``time.monotonic`` for ``vault.issuers``, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The issuers' monotonic clock, under the test's control."""
    fake = Clock()
    monkeypatch.setattr("vault.issuers.time.monotonic", fake)
    return fake


def test_an_unknown_kid_refetches_the_key_set_once_then_is_refused(clock: Clock) -> None:
    psc = FakeProvider("https://psc.test")
    trusted = issuers((psc, pros_settings(psc, jwks_min_refresh=30)))
    trusted.authenticate(psc.token(psc_claims()))
    fetched = len(psc.requests)  # discovery and the key set
    clock.now += 31
    stranger = FakeProvider("https://psc.test")
    stranger.kid = "random-kid"
    stranger.keys = {"random-kid": stranger.keys.popitem()[1]}
    assert "key" in refused(trusted, stranger.token(psc_claims()))
    assert len(psc.requests) == fetched + 1  # one refresh of the key set
    for _ in range(20):  # an attacker sending random kids gets no more refreshes
        refused(trusted, stranger.token(psc_claims()))
        clock.now += 1
    assert len(psc.requests) == fetched + 1
    clock.now += 30  # until jwks_min_refresh has passed again
    refused(trusted, stranger.token(psc_claims()))
    assert len(psc.requests) == fetched + 2


def test_a_rotated_key_is_picked_up_without_restart() -> None:
    psc = FakeProvider("https://psc.test")
    trusted = issuers((psc, pros_settings(psc, jwks_min_refresh=0)))
    trusted.authenticate(psc.token(psc_claims()))
    old, old_key = psc.kid, psc.keys[psc.kid]
    psc.rotate()
    assert trusted.authenticate(psc.token(psc_claims())).actor.id == RPPS
    # the old key is gone from the set: a token it signs now is refused
    claims = jwt.decode(psc.token(psc_claims()), options={"verify_signature": False})
    stale = jwt.encode(claims, old_key, algorithm="RS256", headers={"kid": old})
    assert "key" in refused(trusted, stale)


def test_an_unreachable_issuer_is_unavailable_and_not_asked_again_at_once() -> None:
    psc = FakeProvider("https://psc.test")
    psc.down = True
    trusted = issuers((psc, pros_settings(psc)))
    token = psc.token(psc_claims())
    with pytest.raises(IssuerUnavailable):
        trusted.authenticate(token)
    asked = len(psc.requests)
    psc.down = False
    with pytest.raises(IssuerUnavailable):  # within jwks_min_refresh: no new request
        trusted.authenticate(token)
    assert len(psc.requests) == asked


def test_a_discovery_naming_another_issuer_is_unavailable() -> None:
    psc = FakeProvider("https://psc.test")
    # configured with a trailing slash: its discovery says "https://psc.test", not this
    impostor = IssuerSettings(issuer="https://psc.test/", audience=PROS, roles=["professional"])
    trusted = Issuers([OidcIssuer(impostor, psc.fetch)])
    psc.issuer = "https://psc.test/"
    token = psc.token(psc_claims())
    psc.issuer = "https://psc.test"
    with pytest.raises(IssuerUnavailable):
        trusted.authenticate(token)


def test_services_are_their_registered_client_and_nothing_else() -> None:
    hub = FakeProvider("https://hub.test", "ES256")
    settings = IssuerSettings(
        issuer=hub.issuer, audience="coffre", roles=["service"], clients={"c-123": "hopital-nord"}
    )
    trusted = issuers((hub, settings))
    token = hub.token(
        {"aud": "coffre", "client_id": "c-123", "scope": "system/DocumentReference.c"}
    )
    assert trusted.authenticate(token).actor == Actor(Role.SERVICE, "hopital-nord", "hopital-nord")
    assert "registered" in refused(trusted, hub.token({"aud": "coffre", "client_id": "c-999"}))


def test_the_embedded_issuer_is_one_issuer_among_others() -> None:
    psc = FakeProvider("https://psc.test")
    embedded = TokenAuthority.from_seed("coffre", bytes(32))
    trusted = Issuers([OidcIssuer(pros_settings(psc), psc.fetch)], embedded)
    alice = Actor(Role.PATIENT, INS, "Alice")
    principal = trusted.authenticate(embedded.mint(alice))
    assert principal.actor == alice and principal.issuer == "coffre"
    assert {(g.context, g.resource) for g in principal.scopes} == {("patient", "*")}
    assert trusted.authenticate(psc.token(psc_claims())).actor.id == RPPS
    assert psc.requests  # only the external token fetched anything


def test_issuer_urls_must_be_https_except_on_loopback() -> None:
    with pytest.raises(ValidationError, match="https"):
        IssuerSettings(issuer="http://idp.example", audience="a", roles=["patient"])
    IssuerSettings(issuer="http://127.0.0.1:8080", audience="a", roles=["patient"])


def test_issuers_are_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    psc = {"issuer": "https://psc.test", "audience": PROS, "roles": ["professional"]}
    monkeypatch.setenv("COFFRE_OIDC_ISSUERS", json.dumps([psc]))
    (configured,) = Settings().oidc_issuers
    assert configured.roles == {Role.PROFESSIONAL}
    assert configured.claims.professional_id == "SubjectNameID"
    assert configured.discovery == "https://psc.test/.well-known/openid-configuration"
    monkeypatch.setenv("COFFRE_OIDC_ISSUERS", json.dumps([psc, psc]))
    with pytest.raises(ValidationError, match="once"):
        Settings()
    monkeypatch.setenv("COFFRE_OIDC_ISSUERS", "[]")
    monkeypatch.setenv("COFFRE_EMBEDDED_ISSUER", "false")
    with pytest.raises(ValidationError, match="COFFRE_OIDC_ISSUERS"):
        Settings()


def test_remembered_answers_only_tokens_verified_before_and_never_fetches() -> None:
    # ``remembered`` runs on the API's event loop: it may decode nothing and ask no
    # provider, and it must never answer for a token that was not fully verified.
    psc = FakeProvider("https://psc.test")
    embedded = TokenAuthority.from_seed("coffre", bytes(32))
    trusted = Issuers([OidcIssuer(pros_settings(psc), psc.fetch)], embedded)
    external = psc.token(psc_claims())
    own = embedded.mint(Actor(Role.PATIENT, INS, "Alice"))
    for token in (external, own, "", "x" * 100_000, "not.a.jwt"):
        assert trusted.remembered(token) is None
    assert not psc.requests
    assert trusted.remembered(external) is None
    principal = trusted.authenticate(external)
    assert trusted.remembered(external) == principal
    assert trusted.remembered(own) is None  # each token on its own
    assert trusted.remembered(own[:-2] + "AA") is None
    assert trusted.authenticate(own) == trusted.remembered(own)
