"""The Python SDK: a client of the Coffre HTTP API that encrypts and decrypts locally.

::

    with CoffreClient(url, token, reader_key=ReaderKey.load(path)) as coffre:  # approved
        document_id, _ = coffre.deposit(patient_id, "bilan.pdf", type="lab_result",
                                        title="Bilan sanguin", date=date.today())
        coffre.read(patient_id, document_id, "copie.pdf")

``CoffreClient`` is the composition of one class per concept, each in the module of the
same name as the server's router and use cases:

=========================  ===============================================================
``client.life``            provision, activate, oppose, close, space state
``client.documents``       space key, deposit (encrypted here), delete
``client.reads``           reader key, the documents one may read, read (decrypted here)
``client.grants``          grant, grants, revoke
``client.confidentiality`` mask, unmask, invisible to representatives, release to patient
``client.blocks``          who may read what, block, unblock, attending physician, settings
``client.emergency``       emergency access
``client.representatives`` legal representatives
``client.notifications``   the caller's notifications
``client.access_log``      the patient's access log
``client.trail``           the regulator's trail (verified offline by ``client.trail_verify``)
``client.fhir``            IHE MHD over /fhir: provide (ITI-65), find (ITI-67), retrieve (ITI-68)
``client.exports``         the patient's export archive and its re-import
=========================  ===============================================================

``client.transport`` holds what they share: the HTTP session, its requests and errors.
Failures raise the very classes server code raises (``wire.errors``), rebuilt from the
problem+json ``type``; a network failure raises ``Unavailable``.
"""

from __future__ import annotations

from client.access_log import AccessLogMethods
from client.blocks import BlockMethods
from client.confidentiality import ConfidentialityMethods
from client.devices import DeviceMethods
from client.documents import DocumentMethods
from client.emergency import EmergencyMethods
from client.exports import ExportMethods
from client.fhir import FhirMethods
from client.grants import GrantMethods
from client.life import LifeMethods
from client.notifications import NotificationMethods
from client.reads import ReadMethods
from client.representatives import RepresentativeMethods
from client.trail import TrailMethods

__all__ = ["CoffreClient"]


class CoffreClient(
    LifeMethods,
    ExportMethods,  # before DocumentMethods, whose deposit it uses
    DocumentMethods,
    ReadMethods,
    DeviceMethods,
    GrantMethods,
    ConfidentialityMethods,
    BlockMethods,
    EmergencyMethods,
    RepresentativeMethods,
    NotificationMethods,
    AccessLogMethods,
    TrailMethods,
    FhirMethods,
):
    """A session with one Coffre server, as the actor its bearer token names.

    ``reader_key`` is this client's device key: needed only to read documents (a data
    key is sealed to it once it is an approved device) and to add or approve devices.
    Use as a context manager, or call :meth:`close`.
    """
