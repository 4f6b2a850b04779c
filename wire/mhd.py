"""What the server's FHIR facade (``api.routers.fhir``) and the SDK (``client.fhir``)
agree on for IHE MHD: media types, Coffre's extension, headers, identifier systems.

Pure constants: the client wing imports them without any server package.
"""

from __future__ import annotations

#: FHIR's JSON media type
FHIR_JSON = "application/fhir+json"
#: a Coffre envelope (``wire.envelope``, format v1): the only content a Coffre attachment
#: or Binary holds; the server never sees the plaintext, nor its media type
ENVELOPE_MEDIA_TYPE = "application/vnd.coffre.envelope"
#: the extension of an ITI-65 DocumentReference carrying the data key sealed to the
#: space key (``valueBase64Binary``)
SEALED_KEY_EXTENSION = "https://coffre.invalid/fhir/StructureDefinition/sealed-key"
#: ITI-68: the request header naming the reader's approved device key
READER_KEY_HEADER = "X-Coffre-Reader-Key"
#: ITI-68: the answer's headers: the data key resealed to that device (base64), the
#: recorded read's id, the envelope's SHA-256 (hex)
SEALED_KEY_HEADER = "X-Coffre-Sealed-Key"
ACCESS_ID_HEADER = "X-Coffre-Access-Id"
SHA256_HEADER = "X-Coffre-Sha256"
#: the DMP's visibility statuses (TRE_A07), the system of ``securityLabel`` codes
VISIBILITY = (
    "https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/"
    "TRE-A07-StatutVisibiliteDocument"
)
LOINC = "http://loinc.org"
