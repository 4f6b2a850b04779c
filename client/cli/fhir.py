"""``coffre fhir``: the FHIR (IHE MHD) interactions from the command line, as JSON
(``client.fhir``): provide (ITI-65), documents (ITI-67), document (the read of one),
retrieve (ITI-68), consents, audit-events (ITI-81)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from client.cli.common import (
    DEFAULT_READER_KEY,
    DEFAULT_URL,
    DocumentArg,
    PatientArg,
    ReaderKeyOption,
    SinceOption,
    TokenOption,
    UntilOption,
    UrlOption,
    client,
    err,
    out,
    parse_instant,
)

fhir_app = typer.Typer(
    help="FHIR R4 (IHE MHD): provide, find, retrieve; consents, audit events.", no_args_is_help=True
)


@fhir_app.command("provide")
def provide(
    patient_id: PatientArg,
    file: Annotated[Path, typer.Argument(help="The document to encrypt and provide.")],
    source_system: Annotated[str, typer.Option(help="masterIdentifier system (a URI).")],
    source_value: Annotated[str, typer.Option(help="masterIdentifier value (your id).")],
    type_code: Annotated[str, typer.Option(help="LOINC type code, e.g. 11502-2.")],
    title: Annotated[str, typer.Option(help="Title shown to readers.")],
    date_: Annotated[str, typer.Option("--date", help="Document date, YYYY-MM-DD.")] = "",
    replaces: Annotated[str | None, typer.Option(help="The document this replaces.")] = None,
    masked: Annotated[bool, typer.Option(help="MASQUE_PS.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """ITI-65: encrypt a document and provide it in one transaction Bundle; prints its
    id and version (sending it again records nothing: same masterIdentifier)."""
    with client(url, token) as coffre:
        document_id, version, created = coffre.provide_document(
            patient_id,
            file,
            source_id=(source_system, source_value),
            type_code=type_code,
            title=title,
            date=date_ or date.today(),
            replaces=replaces,
            masked=masked,
        )
    out().print(str(document_id))
    err().print(f"version {version}" + ("" if created else " (already provided)"))


@fhir_app.command("documents")
def documents(
    patient_id: PatientArg,
    type_code: Annotated[str | None, typer.Option(help="Only this LOINC type.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """ITI-67: the DocumentReferences of a space you may list, as JSON."""
    with client(url, token) as coffre:
        found = list(coffre.find_document_references(patient_id, type_code=type_code))
    out().print_json(data=found)


@fhir_app.command("document")
def document(
    patient_id: PatientArg,
    document_id: DocumentArg,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """The DocumentReference of one document you may list (FHIR read), as JSON."""
    with client(url, token) as coffre:
        out().print_json(data=coffre.read_document_reference(patient_id, document_id))


@fhir_app.command("labels")
def labels(
    patient_id: PatientArg,
    document_id: DocumentArg,
    codes: Annotated[
        list[str] | None,
        typer.Argument(
            help="The visibility codes the document should carry: MASQUE_PS, "
            "INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX; none lifts them all."
        ),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Set a document's securityLabel (its confidentiality codes) by a FHIR update."""
    with client(url, token) as coffre:
        updated = coffre.set_security_labels(patient_id, document_id, codes or [])
    shown = [c["code"] for label in updated.get("securityLabel", []) for c in label["coding"]]
    err().print("codes now: " + (", ".join(shown) or "none"))


@fhir_app.command("retrieve")
def retrieve(
    patient_id: PatientArg,
    document_id: DocumentArg,
    output: Annotated[Path, typer.Argument(help="Where to write the decrypted document.")],
    reader_key: ReaderKeyOption = Path(DEFAULT_READER_KEY),
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """ITI-68: retrieve a document (a recorded read) and decrypt it into OUTPUT."""
    with client(url, token, reader_key.expanduser()) as coffre:
        # the read names the attachment URL, without listing the whole space
        reference = coffre.read_document_reference(patient_id, document_id)
        coffre.retrieve_document(reference, output)
    err().print(f"written to {output}")


@fhir_app.command("consents")
def consents(
    patient_id: PatientArg,
    actor: Annotated[str | None, typer.Option(help="Only those naming this RPPS.")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Who may read the space, as FHIR Consents (the patient or a representative)."""
    with client(url, token) as coffre:
        out().print_json(data=list(coffre.find_consents(patient_id, professional_id=actor)))


@fhir_app.command("audit-events")
def audit_events(
    patient_id: PatientArg,
    since: SinceOption = None,
    until: UntilOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """ITI-81: the space's AuditEvents (the patient's own log; the regulator's trail)."""
    window = {"since": parse_instant(since, "since"), "until": parse_instant(until, "until")}
    with client(url, token) as coffre:
        out().print_json(data=list(coffre.find_audit_events(patient_id, **window)))
