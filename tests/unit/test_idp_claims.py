"""The pieces of real identity that need no server: the development provider's claims
read back as the same actor, how a token says a person logged in, the provider's keys
derived from the token keys, and the public URL its issuer is built on."""

from __future__ import annotations

import pytest

from coffre.cast import demo_actors, demo_people
from domain.values import Actor, patient_id_from_number
from keys.provider import ProviderKey, provider_keys
from keys.sources import KeyEntry
from vault.claims import (
    ClaimsMapping,
    actor_from_claims,
    authentication_of,
    claims_of,
    role_of,
)
from vault.settings import Settings
from wire.values import Profession, Role

MAPPING = ClaimsMapping(role="role")
ACTORS = demo_actors(patient_id_from_number("2850775123456"))


@pytest.mark.parametrize("name", sorted(set(ACTORS) - {"hospital", "enrolment"}))
def test_the_providers_claims_read_back_as_the_same_actor(name: str) -> None:
    actor = ACTORS[name]
    claims = claims_of(actor)
    role = role_of(claims, MAPPING, frozenset(Role))
    assert actor_from_claims(claims, role, MAPPING, {}) == actor


def test_a_professionals_claims_have_pro_sante_connects_names() -> None:
    claims = claims_of(ACTORS["alice"])
    assert claims["SubjectNameID"] == "8" + ACTORS["alice"].id
    assert claims["SubjectRefPro"] == {"exercices": [{"codeProfession": "10"}]}
    assert claims["SubjectOrganization"] == "Cabinet médical du Parc"


def test_a_professional_known_by_adeli_alone_reads_back_the_same() -> None:
    physio = Actor(Role.PROFESSIONAL, "2A1234567", "M. Kiné", Profession.PHYSIOTHERAPIST)
    claims = claims_of(physio)
    assert claims["SubjectNameID"] == "02A1234567"  # PSC: '0' + ADELI
    assert actor_from_claims(claims, Role.PROFESSIONAL, MAPPING, {}) == physio


def test_a_service_is_named_by_its_registered_client() -> None:
    service = ACTORS["hospital"]
    claims = {**claims_of(service), "client_id": "client-42"}
    found = actor_from_claims(claims, Role.SERVICE, MAPPING, {"client-42": service.id})
    assert found.id == service.id


@pytest.mark.parametrize(
    ("claims", "method"),
    [
        ({"acr": "e-CPS", "amr": ["mfa"]}, "e-CPS"),
        ({"amr": ["mfa", "otp"]}, "mfa+otp"),
        ({"amr": ["pwd"]}, "pwd"),
        ({"acr": " ", "amr": []}, None),
        ({"amr": "pwd"}, None),  # amr is a list (RFC 8176)
        ({"acr": "x" * 200}, "x" * 64),
        ({}, None),
    ],
)
def test_how_a_person_logged_in_is_the_tokens_acr_else_amr(
    claims: dict[str, object], method: str | None
) -> None:
    assert authentication_of(claims) == method


def test_an_actors_method_is_recorded_but_is_not_who_they_are() -> None:
    alice = ACTORS["alice"]
    by_card = Actor(alice.role, alice.id, alice.name, alice.profession, alice.organisation, "card")
    assert by_card == alice and hash(by_card) == hash(alice)
    assert Actor.from_dict(by_card.to_dict()).authentication == "card"
    assert "authentication" not in alice.to_dict()


def test_the_providers_keys_derive_from_the_token_keys_and_follow_them() -> None:
    first, second = KeyEntry.generate("tk-1"), KeyEntry.generate("tk-2")
    keys = provider_keys([first, second])
    assert [key.key_id for key in keys] == ["tk-1-es256", "tk-2-es256"]
    again = ProviderKey.derive(first)
    assert again.public_jwk() == keys[0].public_jwk()  # the same key after a restart
    assert keys[0].public_jwk() != keys[1].public_jwk()
    assert "d" not in keys[0].public_jwk() and "d" in keys[0].private_jwk()


def test_the_login_page_lists_the_patient_first_and_each_login_once() -> None:
    people = demo_people()
    assert people[0].actor.role is Role.PATIENT
    assert len({person.login for person in people}) == len(people)
    assert {person.actor.role for person in people} >= {Role.PROFESSIONAL, Role.REGULATOR}


@pytest.mark.parametrize(
    ("host", "public", "base"),
    [
        ("127.0.0.1", None, "http://127.0.0.1:8000"),
        ("0.0.0.0", None, "http://127.0.0.1:8000"),
        ("::", None, "http://[::1]:8000"),
        ("127.0.0.1", "https://coffre.example/", "https://coffre.example"),
    ],
)
def test_the_public_url(tmp_path, host: str, public: str | None, base: str) -> None:
    settings = Settings(data_dir=tmp_path, host=host, public_url=public)
    assert settings.base_url == base
