"""A document's confidentiality codes from the command line (``client.confidentiality``),
one name each, as in the deposit's options and the domain:

- ``coffre mask`` / ``coffre unmask``         ``masked`` (MASQUE_PS), on or off
- ``coffre make-invisible-to-representatives``  ``invisible_to_representatives``
                                              (INVISIBLE_REPRESENTANTS_LEGAUX), one-way
- ``coffre release-invisible-to-patient``     lifts ``invisible_to_patient``
                                              (INVISIBLE_PATIENT, set with the deposit)

``hide-from-representatives`` and ``release-to-patient``, their old names, remain as
hidden aliases. The server decides who may; a refusal is one line, non-zero exit.
"""

from __future__ import annotations

from client.cli.common import document_command
from client.sdk import CoffreClient

mask = document_command(
    CoffreClient.mask,
    "masked from professionals",
    """Mask a document from professionals (MASQUE_PS).

    Its author still sees it; the attending physician and an emergency access see it
    only if the space's settings say so.
    """,
)

unmask = document_command(
    CoffreClient.unmask,
    "no longer masked",
    "Show a masked document to professionals again (the patient or a representative).",
)

make_invisible_to_representatives = document_command(
    CoffreClient.make_invisible_to_representatives,
    "invisible to the legal representatives",
    """Make a document invisible to the legal representatives (INVISIBLE_REPRESENTANTS_LEGAUX).

    A minor's right to secrecy for certain care: the patient or the document's author
    sets it, and no command lifts it (a representative could otherwise undo it).
    """,
)

release_invisible_to_patient = document_command(
    CoffreClient.release_invisible_to_patient,
    "released: the patient sees it",
    """Release a document invisible to the patient (INVISIBLE_PATIENT).

    The document's author, once the announcement consultation took place: the patient
    sees it at once (otherwise it becomes visible by itself a month after its deposit).
    """,
)
