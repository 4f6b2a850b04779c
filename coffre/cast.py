"""The demo's people: who plays in ``coffre demo``, and who may log in at the embedded
development OpenID provider's login page (``/idp``).

How each logs in is what their tokens' ``amr``/``acr`` say, and what the patient's
access log then shows: the patient with a password, the professionals as Pro Santé
Connect does (e-CPS on a phone, or the CPS card), the regulator with two factors. The
services do not log in at a page: they get tokens by client credentials.
"""

from __future__ import annotations

from domain.values import Actor, patient_id_from_number, professional_id_from_number
from idp.models import Person
from vault.settings import DEMO_ENROLMENT, DEMO_REGISTRY
from wire.values import Profession, Role

DEFAULT_PATIENT_NUMBER = "2850775123456"  # a made-up NIR: woman, born 07/1985, Paris
#: the hospital's feeding service (its OAuth client id is its service id)
HOSPITAL_ID = "chu-demoville.dpi"
REGULATOR_ID = "cnil-controle.demo"


def demo_actors(patient_id: str) -> dict[str, Actor]:
    """The cast by its role in the story."""

    def professional(number: str, name: str, profession: Profession, where: str) -> Actor:
        rpps = professional_id_from_number(number)
        return Actor(Role.PROFESSIONAL, rpps, name, profession, where)

    return {
        "hospital": Actor(
            Role.SERVICE, HOSPITAL_ID, "CHU de Demoville (DPI)", None, "CHU de Demoville"
        ),
        "enrolment": Actor(Role.SERVICE, DEMO_ENROLMENT, "Service d'enrôlement (démo)"),
        "patient": Actor(Role.PATIENT, patient_id, "Camille Dupont"),
        "alice": professional(
            "1000000017", "Dr Alice Martin", Profession.DOCTOR, "Cabinet médical du Parc"
        ),
        "bruno": professional(
            "1000000025", "Dr Bruno Lefèvre", Profession.DOCTOR, "Cardiologie, Clinique Saint-Roch"
        ),
        "chloe": professional(
            "1000000033", "Chloé Bernard", Profession.PHARMACIST, "Pharmacie de la Gare"
        ),
        "regulator": Actor(Role.REGULATOR, REGULATOR_ID, "CNIL, service des contrôles (démo)"),
    }


#: how each person logs in: (amr, acr)
_LOGINS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "patient": (("pwd",), None),
    "alice": (("mfa", "otp"), "e-CPS"),
    "bruno": (("hwk", "pin"), "card"),
    "chloe": (("mfa", "otp"), "e-CPS"),
    "regulator": (("mfa", "otp"), None),
}


def demo_people(patient_number: str = DEFAULT_PATIENT_NUMBER) -> list[Person]:
    """The people of the login page, the patient first."""
    actors = demo_actors(patient_id_from_number(patient_number))
    return [Person(login, actors[login], amr, acr) for login, (amr, acr) in _LOGINS.items()]


#: the services that get tokens by client credentials at the development provider
DEMO_SERVICES = (HOSPITAL_ID, DEMO_ENROLMENT, DEMO_REGISTRY)


def demo_services(patient_number: str = DEFAULT_PATIENT_NUMBER) -> list[Actor]:
    """The services registered as clients of the development provider."""
    actors = demo_actors(patient_id_from_number(patient_number))
    registry = Actor(Role.SERVICE, DEMO_REGISTRY, "Registre d'état civil (démo)")
    return [actors["hospital"], actors["enrolment"], registry]
