"""A document's confidentiality codes through the SDK (``api.routers.confidentiality``,
``vault.confidentiality``), one name each, as in the domain and the deposit's options:

* ``masked`` (MASQUE_PS): ``mask``, ``unmask``;
* ``invisible_to_representatives`` (INVISIBLE_REPRESENTANTS_LEGAUX):
  ``make_invisible_to_representatives`` (one-way);
* ``invisible_to_patient`` (INVISIBLE_PATIENT, set with the deposit):
  ``release_invisible_to_patient`` (after the announcement consultation).

::

    with CoffreClient(url, patient_token) as coffre:
        coffre.mask(ins, document_id)
        coffre.make_invisible_to_representatives(ins, document_id)

``hide_from_representatives`` and ``release_to_patient`` are the old names of the last
two, kept for existing callers.
"""

from __future__ import annotations

from uuid import UUID

from client.io import document_path
from client.transport import Transport

__all__ = ["ConfidentialityMethods"]


class ConfidentialityMethods(Transport):
    """Calls that set or lift a document's confidentiality codes."""

    def mask(self, patient_id: str, document_id: UUID | str) -> None:
        """Mask a document from professionals (its author still sees it)."""
        self._request("PUT", f"{document_path(patient_id, document_id)}/mask")

    def unmask(self, patient_id: str, document_id: UUID | str) -> None:
        """Show a masked document to professionals again (the holder only)."""
        self._request("DELETE", f"{document_path(patient_id, document_id)}/mask")

    def make_invisible_to_representatives(self, patient_id: str, document_id: UUID | str) -> None:
        """Make a document invisible to the legal representatives
        (INVISIBLE_REPRESENTANTS_LEGAUX, a minor's right): the patient or its author.

        Deliberately one-way: no call lifts it, so a representative cannot undo it.
        """
        url = f"{document_path(patient_id, document_id)}/invisible-to-representatives"
        self._request("PUT", url)

    def release_invisible_to_patient(self, patient_id: str, document_id: UUID | str) -> None:
        """Release a document invisible to the patient until an announcement
        consultation (INVISIBLE_PATIENT): the author only; the patient sees it at once.

        Raises ``Conflict`` when the document is not (or no longer) held.
        """
        self._request("DELETE", f"{document_path(patient_id, document_id)}/invisible-to-patient")

    def hide_from_representatives(self, patient_id: str, document_id: UUID | str) -> None:
        """The old name of :meth:`make_invisible_to_representatives`."""
        self.make_invisible_to_representatives(patient_id, document_id)

    def release_to_patient(self, patient_id: str, document_id: UUID | str) -> None:
        """The old name of :meth:`release_invisible_to_patient`."""
        self.release_invisible_to_patient(patient_id, document_id)
