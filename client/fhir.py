"""The FHIR (IHE MHD) interactions through the SDK: what a hospital information system
or a patient app does over ``/fhir`` (``api.routers.fhir``), encrypting and decrypting
here as the JSON methods do.

::

    with CoffreClient(url, token) as coffre:  # a feeding system
        coffre.provide_document(ins, "crh.pdf", source_id=(oid, "CRH-42"),
                                type_code="34105-7", title="CRH", date=date.today())
    with CoffreClient(url, token, reader_key=ReaderKey.load(path)) as coffre:
        for reference in coffre.find_document_references(ins):
            coffre.retrieve_document(reference, "copie.pdf")
        reference = coffre.read_document_reference(ins, document_id)  # one, by its id

``provide_document`` (ITI-65) encrypts the document, seals its key to the space key and
sends one transaction Bundle; its ``masterIdentifier`` is the source identifier, so the
SDK sends it again after a timeout or a 5xx (``client.feeding.retrying``).
``retrieve_document`` (ITI-68) follows the attachment URL: the server records the read,
then answers the envelope and the data key resealed to this client's device.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any
from uuid import UUID

import httpx

from client.feeding import SourceIdLike, as_source_id, retrying
from client.io import Sink, as_uuid, open_sink
from client.problems import error_of
from client.shapes import Meter, as_date, b64decode, open_source
from client.transport import Transport
from wire.envelope import DataKey, decrypt, encrypt, seal
from wire.errors import IntegrityFailure, InvalidInput, Unavailable
from wire.mhd import (
    ENVELOPE_MEDIA_TYPE,
    FHIR_JSON,
    LOINC,
    READER_KEY_HEADER,
    SEALED_KEY_EXTENSION,
    SEALED_KEY_HEADER,
    SHA256_HEADER,
    VISIBILITY,
)
from wire.trail_fhir import INS, RPPS

__all__ = ["FhirMethods"]

#: the SDK's names of the confidentiality codes (as ``deposit``'s) to the DMP's
LABELS = {
    "masked": "MASQUE_PS",
    "invisible_to_patient": "INVISIBLE_PATIENT",
    "invisible_to_representatives": "INVISIBLE_REPRESENTANTS_LEGAUX",
}


class FhirMethods(Transport):
    """ITI-65, ITI-67 (and the read of one DocumentReference), ITI-68 and ITI-81 over
    ``/fhir``, Consents, the CapabilityStatement."""

    def fhir_capabilities(self) -> dict[str, Any]:
        """The server's FHIR CapabilityStatement."""
        return self._request("GET", "/fhir/metadata")  # type: ignore[no-any-return]

    def find_document_references(
        self,
        patient_id: str,
        *,
        type_code: str | None = None,
        since: date | None = None,
        page_size: int = 20,
    ) -> Iterator[dict[str, Any]]:
        """ITI-67: the DocumentReferences of a space this caller may list, newest first,
        page after page (``type_code`` a LOINC code; ``since`` a deposit day)."""
        params: dict[str, Any] = {
            "patient.identifier": f"{INS}|{patient_id}",
            "_count": page_size,
        }
        if type_code is not None:
            params["type"] = f"{LOINC}|{type_code}"
        if since is not None:
            params["date"] = f"ge{since.isoformat()}"
        return self._search("/fhir/DocumentReference", params)

    def read_document_reference(self, patient_id: str, document_id: UUID | str) -> dict[str, Any]:
        """The DocumentReference of one document (FHIR read): exactly the entry ITI-67
        shows this caller; ``UnknownDocument`` for one it would not show."""
        params = {"patient.identifier": f"{INS}|{patient_id}"}
        path = f"/fhir/DocumentReference/{as_uuid(document_id, 'document_id')}"
        return self._request("GET", path, params=params)  # type: ignore[no-any-return]

    def set_security_labels(
        self, patient_id: str, document_id: UUID | str, codes: Iterable[str]
    ) -> dict[str, Any]:
        """Give a document these visibility codes (``MASQUE_PS``, ``INVISIBLE_PATIENT``,
        ``INVISIBLE_REPRESENTANTS_LEGAUX``; none lifts them all) by a FHIR update of its
        securityLabel, through the same rules as the JSON routes; the resource as it now
        is. ``Conflict`` for a change no command makes (lifting a one-way code)."""
        resource = self.read_document_reference(patient_id, document_id)
        labels = [{"coding": [{"system": VISIBILITY, "code": code}]} for code in codes]
        resource = {**resource, "securityLabel": labels}
        if not labels:
            del resource["securityLabel"]
        params = {"patient.identifier": f"{INS}|{patient_id}"}
        path = f"/fhir/DocumentReference/{as_uuid(document_id, 'document_id')}"
        return self._request(  # type: ignore[no-any-return]
            "PUT", path, params=params, json=resource, headers={"Content-Type": FHIR_JSON}
        )

    def find_consents(
        self, patient_id: str, *, professional_id: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The Consents of a space (its grants, care team, blocks, emergency setting),
        for its patient or a representative; ``professional_id`` (RPPS) keeps those
        naming that professional."""
        params: dict[str, Any] = {"patient.identifier": f"{INS}|{patient_id}"}
        if professional_id is not None:
            params["actor"] = f"{RPPS}|{professional_id}"
        return self._search("/fhir/Consent", params)

    def find_audit_events(
        self,
        patient_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 50,
    ) -> Iterator[dict[str, Any]]:
        """ITI-81: the AuditEvents of a space: the patient's own access log, or for a
        regulator the trail of the space, within ``[since, until)``."""
        params: dict[str, Any] = {"patient": f"{INS}|{patient_id}", "_count": page_size}
        bounds = [f"ge{since.isoformat()}"] if since else []
        bounds += [f"lt{until.isoformat()}"] if until else []
        if bounds:
            params["date"] = bounds
        return self._search("/fhir/AuditEvent", params)

    def _search(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        # a searchset's resources, page after page, following the server's next links
        page: dict[str, Any] = self._request("GET", path, params=params)
        while True:
            for entry in page.get("entry", []):
                yield entry["resource"]
            link = next((x["url"] for x in page.get("link", []) if x["relation"] == "next"), None)
            if link is None or not page.get("entry"):
                return
            page = self._request("GET", link)

    def provide_document(
        self,
        patient_id: str,
        source: Any,
        *,
        source_id: SourceIdLike,
        type_code: str,
        title: str,
        date: date | str,
        replaces: UUID | str | None = None,
        masked: bool = False,
        invisible_to_patient: bool = False,
        invisible_to_representatives: bool = False,
    ) -> tuple[UUID, int, bool]:
        """ITI-65: encrypt ``source`` (path, binary file, bytes) and provide it in one
        transaction Bundle; returns ``(document_id, version, created)``.

        ``source_id`` is the masterIdentifier: a bundle sent again records nothing
        (``created`` is False). ``replaces`` names the document this one is a new
        version of. The whole envelope travels in the Bundle: for large documents, use
        ``deposit`` (streamed).
        """
        identifier = as_source_id(source_id)
        if identifier is None:
            raise InvalidInput("an ITI-65 deposit needs its source_id", field="source_id")
        data_key = DataKey.generate()
        with open_source(source) as (pieces, _):
            envelope = b"".join(encrypt(pieces, data_key))
        space = self._request("GET", f"/v1/spaces/{patient_id}/key")
        sealed = seal(data_key, base64.b64decode(space["public_key"]))
        codes = {
            "masked": masked,
            "invisible_to_patient": invisible_to_patient,
            "invisible_to_representatives": invisible_to_representatives,
        }
        reference: dict[str, Any] = {
            "resourceType": "DocumentReference",
            "masterIdentifier": identifier.to_dict(),
            "status": "current",
            "type": {"coding": [{"system": LOINC, "code": type_code}]},
            "subject": {"identifier": {"system": INS, "value": patient_id}},
            "description": title,
            "content": [
                {"attachment": {"contentType": ENVELOPE_MEDIA_TYPE, "url": "urn:uuid:binary"}}
            ],
            "context": {"period": {"start": as_date(date).isoformat()}},
            "extension": [
                {
                    "url": SEALED_KEY_EXTENSION,
                    "valueBase64Binary": base64.b64encode(sealed).decode("ascii"),
                }
            ],
            "securityLabel": [
                {"coding": [{"system": VISIBILITY, "code": LABELS[name]}]}
                for name, on in codes.items()
                if on
            ],
        }
        if replaces is not None:
            target = {"reference": f"DocumentReference/{UUID(str(replaces))}"}
            reference["relatesTo"] = [{"code": "replaces", "target": target}]
        bundle = {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": "urn:uuid:reference",
                    "resource": reference,
                    "request": {"method": "POST", "url": "DocumentReference"},
                },
                {
                    "fullUrl": "urn:uuid:binary",
                    "resource": {
                        "resourceType": "Binary",
                        "contentType": ENVELOPE_MEDIA_TYPE,
                        "data": base64.b64encode(envelope).decode("ascii"),
                    },
                    "request": {"method": "POST", "url": "Binary"},
                },
            ],
        }
        headers = {"Content-Type": FHIR_JSON}
        answer = retrying(lambda: self._request("POST", "/fhir", json=bundle, headers=headers))
        response = answer["entry"][0]["response"]
        _, document_id, _, version = response["location"].split("/")
        return UUID(document_id), int(version), response["status"].startswith("201")

    def retrieve_document(self, reference: dict[str, Any] | str, sink: Sink) -> None:
        """ITI-68: retrieve a document (the read is recorded in the patient's access log)
        and decrypt it into ``sink``; ``reference`` is a DocumentReference from
        ``find_document_references`` or its attachment URL.

        The envelope is checked against its SHA-256 before its last record is released.
        """
        reader = self._reader()
        url = (
            reference
            if isinstance(reference, str)
            else reference["content"][0]["attachment"]["url"]
        )
        with open_sink(sink) as out:
            try:
                with self._http.stream(
                    "GET", url, headers={READER_KEY_HEADER: reader.key_id}
                ) as response:
                    if response.is_error:
                        response.read()
                        raise error_of(response)
                    key = reader.unseal(b64decode(response.headers[SEALED_KEY_HEADER], "key"))
                    expected = response.headers.get(SHA256_HEADER, "")
                    meter = Meter(None, None)

                    def verified() -> Iterator[bytes]:
                        yield from meter.wrap(response.iter_bytes())
                        if not hmac.compare_digest(meter.hexdigest(), expected):
                            raise IntegrityFailure("the envelope does not match its hash")

                    for plaintext in decrypt(verified(), key):
                        out.write(plaintext)
            except httpx.RequestError as error:
                raise Unavailable(f"the retrieval failed: {type(error).__name__}") from None
