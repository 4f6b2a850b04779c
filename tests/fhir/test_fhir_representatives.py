"""``securityLabel`` INVISIBLE_REPRESENTANTS_LEGAUX: the minor sees the document and its
label, the legal representative neither the document nor any count of it, and its read
answers them as an unknown id does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from coffre.bootstrap import Coffre, build
from domain.values import Actor, patient_id_from_number
from tests.api.api_helpers import Caller
from tests.fhir.fhir_helpers import document_id_of, patient_query, provide, provide_bundle, valid
from tests.scenarios.conftest import BACKENDS, backend_settings
from vault.settings import DEMO_REGISTRY
from wire.values import Role

MINOR = Actor(Role.PATIENT, patient_id_from_number("2100575123457"), "Léa Martin")
MOTHER = Actor(Role.REPRESENTATIVE, patient_id_from_number("2800575123458"), "Anne Martin")
REGISTRY = Actor(Role.SERVICE, DEMO_REGISTRY, "Registre d'état civil")


@pytest.fixture(params=BACKENDS)
def coffre(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Coffre]:
    """A Coffre on one backend pairing whose registry service may name representatives."""
    settings = backend_settings(request, request.param, tmp_path / "data")
    update = {"opposition_period": timedelta(0), "registry_services": DEMO_REGISTRY}
    built = build(settings.model_copy(update=update))
    try:
        yield built
    finally:
        built.close()


def test_a_minors_secret_is_labelled_for_them_and_absent_for_the_representative(
    caller: Any, hospital: Caller
) -> None:
    body = {
        "entries": [
            {
                "patient_id": MINOR.id,
                "birth_date": date(2012, 5, 1).isoformat(),
                "representatives": [{"id": MOTHER.id, "name": MOTHER.name, "kind": "parent"}],
            }
        ]
    }
    registered = caller(REGISTRY).post("/v1/spaces/register", json=body)
    assert registered.status_code == 200, registered.text
    provide(hospital, provide_bundle(hospital, MINOR.id, b"vaccin", source="v"))
    secret = provide_bundle(
        hospital, MINOR.id, b"secret", source="s", labels=("INVISIBLE_REPRESENTANTS_LEGAUX",)
    )
    provide(hospital, secret)
    query = f"/fhir/DocumentReference?{patient_query(MINOR.id)}"
    minor = valid(caller(MINOR).get(query).json())
    labels = [
        [label["coding"][0]["code"] for label in entry["resource"].get("securityLabel", [])]
        for entry in minor["entry"]
    ]
    assert minor["total"] == 2 and sorted(labels) == [[], ["INVISIBLE_REPRESENTANTS_LEGAUX"]]
    mother = valid(caller(MOTHER).get(query).json())
    assert mother["total"] == 1
    assert "securityLabel" not in mother["entry"][0]["resource"]
    # the read of the secret answers the representative as an id that never existed,
    # and the minor with the search's own entry
    secret_id = document_id_of(provide(hospital, secret))

    def read(reader: Actor, document_id: str) -> Any:
        path = f"/fhir/DocumentReference/{document_id}?{patient_query(MINOR.id)}"
        return caller(reader).get(path)

    hidden, none = read(MOTHER, secret_id), read(MOTHER, str(uuid.uuid4()))
    assert hidden.status_code == none.status_code == 404
    assert valid(hidden.json())["issue"] == valid(none.json())["issue"]
    entries = {entry["resource"]["id"]: entry["resource"] for entry in minor["entry"]}
    assert valid(read(MINOR, secret_id).json()) == entries[secret_id]
