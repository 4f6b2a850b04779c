"""Documents through the SDK: a space's public key, deposit (encrypted here, as a
stream), delete (``api.routers.documents``, ``vault.documents``).

::

    with CoffreClient(url, token) as coffre:
        document_id, version = coffre.deposit(ins, "bilan.pdf", type="lab_result",
                                              title="Bilan sanguin", date=date.today())

The server never sees a plaintext document or a bare data key: ``deposit`` encrypts as
a stream, uploads the ciphertext (straight to S3 when the server offers it, else through
the API: ``client.uploads``) and seals the data key to the space's public key.
Memory stays flat at any size.
"""

from __future__ import annotations

import base64
import hmac
from datetime import date
from typing import Any
from uuid import UUID

from client.feeding import SourceIdLike, as_source_id, retrying
from client.io import as_uuid, document_path, space_path
from client.shapes import Progress, Source, as_date, open_source, parse_space_key
from client.uploads import UploadMethods
from wire.dto import SpaceKeyInfo
from wire.envelope import DataKey, seal
from wire.errors import IntegrityFailure
from wire.values import DocumentMetadata

__all__ = ["DocumentMethods"]


class DocumentMethods(UploadMethods):
    """Calls that put documents into a space, or take them out."""

    def space_key(self, patient_id: str) -> SpaceKeyInfo:
        """The public key data keys of this space are sealed to."""
        return parse_space_key(self._request("GET", f"{space_path(patient_id)}/key"))

    def deposit(
        self,
        patient_id: str,
        source: Source,
        *,
        type: str,  # the API's own field name
        title: str,
        date: date | str,
        document_id: UUID | str | None = None,
        progress: Progress | None = None,
        masked: bool = False,
        invisible_to_patient: bool = False,
        invisible_to_representatives: bool = False,
        source_id: SourceIdLike | None = None,
    ) -> tuple[UUID, int]:
        """Encrypt ``source`` (a path, a binary file, bytes or an iterable of bytes) and
        deposit it; returns ``(document_id, version)``.

        ``source_id`` is your own identifier of the document (``(system, value)``: the
        DMP's uniqueId, FHIR's masterIdentifier). With it the deposit is recorded once:
        after a timeout, a lost connection or a 5xx the SDK sends it again
        (``client.feeding.retrying``) and returns the document's id whether the first
        attempt was recorded or not. Depositing again from scratch encrypts anew, so the
        server sees other content: ``AlreadyDeposited``, whose ``document_id`` names
        the document; pass it as ``document_id`` to deposit a new version instead.

        ``document_id`` deposits a new version of that document. Metadata is checked
        before any byte is sent. The confidentiality codes (RULES.md) are set with the
        deposit: ``masked`` (MASQUE_PS, hidden from professionals but its author),
        ``invisible_to_patient`` (INVISIBLE_PATIENT, held for an announcement
        consultation until its author releases it) and ``invisible_to_representatives``
        (INVISIBLE_REPRESENTANTS_LEGAUX).
        """
        metadata = DocumentMetadata(type=type, title=title, date=as_date(date))  # type: ignore[arg-type]
        identifier = as_source_id(source_id)
        data_key = DataKey.generate()
        with open_source(source) as (pieces, size):
            # straight to S3 when the server offers it, else through the API; either way
            # with the space's key (a direct upload's start answers it: one call fewer)
            upload, meter, space = self._upload(patient_id, pieces, size, data_key, progress)
        sealed = seal(data_key, base64.b64decode(space.public_key))
        # The receipt must name exactly the bytes we sent, or the deposit would seal a key
        # to a ciphertext that is not ours.
        same_hash = hmac.compare_digest(str(upload["sha256"]), meter.hexdigest())
        if upload["size"] != meter.done or not same_hash:
            raise IntegrityFailure("the server stored different bytes than were sent")
        # a direct upload the deposit completes (``client.uploads``), else a receipt
        pending = upload.get("upload") if "receipt" not in upload else None
        body: dict[str, Any] = (
            {"receipt": upload["receipt"]}
            if pending is None
            else {"upload": pending, "sha256": upload["sha256"]}
        )
        body |= {
            "type": metadata.type.value,
            "title": metadata.title,
            "date": metadata.date.isoformat(),
            "sealed_key": base64.b64encode(sealed).decode("ascii"),
        }
        if document_id is not None:
            body["document_id"] = str(as_uuid(document_id, "document_id"))
        codes = {
            "masked": masked,
            "invisible_to_patient": invisible_to_patient,
            "invisible_to_representatives": invisible_to_representatives,
        }
        body.update({code: True for code, on in codes.items() if on})
        url = f"{space_path(patient_id)}/documents"
        try:
            if identifier is None:
                answer = self._request("POST", url, json=body)
            else:
                body["source_id"] = identifier.to_dict()
                answer = retrying(lambda: self._request("POST", url, json=body))
        except BaseException:
            if pending is not None:  # not completed, or completed and not deposited
                self._abort_direct(patient_id, str(pending))
            raise
        return UUID(answer["document_id"]), int(answer["version"])

    def delete(self, patient_id: str, document_id: UUID | str) -> None:
        """Delete a document (the patient only)."""
        self._request("DELETE", document_path(patient_id, document_id))
