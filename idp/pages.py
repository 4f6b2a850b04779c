"""The provider's HTML pages: log in as one of the demo's people, approve a device.

Server-rendered, French first (English below each heading), no script at all and
nothing from another site: a style sheet of the provider's own. Every value shown is
escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from idp.models import Person
from wire.values import Role

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1b1b; }
h1 { font-size: 1.4rem; } .en { color: #555; font-size: .9rem; }
fieldset { border: 1px solid #ccc; border-radius: .4rem; margin: 1rem 0; }
label { display: block; padding: .4rem 0; } .who { color: #555; font-size: .9rem; }
button { font-size: 1rem; padding: .5rem 1rem; margin-right: .5rem; }
.warn { background: #fff4d6; padding: .5rem; border-radius: .3rem; }
"""

_ROLES = {
    Role.PATIENT: "Patient·e",
    Role.REPRESENTATIVE: "Représentant·e légal·e",
    Role.PROFESSIONAL: "Professionnel·le de santé",
    Role.SERVICE: "Service",
    Role.REGULATOR: "Autorité de contrôle",
}


def _page(title: str, english: str, body: str) -> str:
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="stylesheet" href="idp.css"></head><body>'
        f'<h1>{escape(title)}</h1><p class="en" lang="en">{escape(english)}</p>'
        '<p class="warn">Fournisseur d\'identité de développement : aucun mot de passe, '
        "ne l'utilisez jamais en production.</p>"
        f"{body}</body></html>"
    )


def _people(people: Iterable[Person]) -> str:
    rows = []
    for index, person in enumerate(people):
        actor = person.actor
        details = [_ROLES[actor.role]]
        if actor.profession:
            details.append(actor.profession.value)
        if actor.organisation:
            details.append(actor.organisation)
        how = person.acr or " ".join(person.amr)
        checked = " checked" if index == 0 else ""
        rows.append(
            f'<label><input type="radio" name="person" value="{escape(person.login)}"{checked}> '
            f"<strong>{escape(actor.name)}</strong> "
            f'<span class="who">{escape(" · ".join(details))} — {escape(actor.id)} '
            f"({escape(how)})</span></label>"
        )
    return "".join(rows)


def login_page(interaction: str, client_id: str, people: Iterable[Person]) -> str:
    """Choose who logs in, and consent to ``client_id`` acting for them."""
    body = (
        '<form method="post" action="authorize">'
        f'<input type="hidden" name="interaction" value="{escape(interaction)}">'
        '<fieldset><legend>Qui êtes-vous ? <span lang="en">(who are you?)</span></legend>'
        f"{_people(people)}</fieldset>"
        f"<p>L'application <strong>{escape(client_id)}</strong> demande à accéder à Coffre "
        'en votre nom. <span class="en" lang="en">This application asks to use Coffre on '
        "your behalf.</span></p>"
        '<button type="submit" name="consent" value="yes">Se connecter et autoriser</button>'
        '<button type="submit" name="consent" value="no">Refuser</button></form>'
    )
    return _page("Connexion à Coffre", "Log in to Coffre", body)


def device_page(user_code: str, people: Iterable[Person], message: str = "") -> str:
    """Enter a device's code, choose who logs in, approve or refuse."""
    note = f'<p class="warn">{escape(message)}</p>' if message else ""
    body = (
        f"{note}"
        '<form method="post" action="device">'
        '<p><label>Code affiché par l\'appareil <span lang="en">(code shown on the device)'
        f'</span> <input name="user_code" value="{escape(user_code)}" required '
        'autocomplete="off" autocapitalize="characters"></label></p>'
        '<fieldset><legend>Qui êtes-vous ? <span lang="en">(who are you?)</span></legend>'
        f"{_people(people)}</fieldset>"
        '<button type="submit" name="consent" value="yes">Autoriser cet appareil</button>'
        '<button type="submit" name="consent" value="no">Refuser</button></form>'
    )
    return _page("Connecter un appareil", "Connect a device", body)


def done_page(approved: bool) -> str:
    """After a device was approved or refused."""
    if approved:
        return _page(
            "Appareil connecté",
            "Device connected: you may close this page.",
            "<p>Vous pouvez fermer cette page et revenir à votre appareil.</p>",
        )
    return _page("Connexion refusée", "Login refused.", "<p>L'appareil n'est pas connecté.</p>")


def error_page(message: str, english: str) -> str:
    """A login that cannot go on (an unknown client, an expired form)."""
    return _page("Connexion impossible", english, f"<p>{escape(message)}</p>")
