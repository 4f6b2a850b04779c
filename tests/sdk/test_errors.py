"""Problems come back as the server's own exception classes; failures leave no trace."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from collections.abc import Callable
from datetime import date

import httpx
import pytest
from nacl.public import PrivateKey

from client.problems import error_from_problem
from client.readerkey import ReaderKey
from client.sdk import CoffreClient
from coffre.bootstrap import Coffre
from domain.values import patient_id_from_number
from tests.sdk.conftest import BASE_URL, DOCTOR, HOSPITAL, PATIENT, STRANGER, Enrol
from wire.devices import device_key_id
from wire.envelope import DataKey, encrypt, seal
from wire.errors import (
    CoffreError,
    Conflict,
    DecryptionError,
    Forbidden,
    InsecureKeyFile,
    IntegrityFailure,
    InvalidInput,
    InvalidKey,
    NotFound,
    SpaceAlreadyExists,
    Unauthenticated,
    Unavailable,
    UnknownDocument,
    UnknownMasterKey,
    UnknownReaderKey,
    UnknownSpace,
)

Connect = Callable[..., CoffreClient]
DOCUMENT_ID = "6f1c1b7e-52b5-4c4e-9d5e-3d3b2f0c9a10"


def _problem(code: str, **extra: object) -> dict[str, object]:
    return {
        "type": f"https://coffre.invalid/problems/{code}",
        "title": code,
        "detail": "d",
        **extra,
    }


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("unknown-space", UnknownSpace),
        ("space-already-exists", SpaceAlreadyExists),
        ("decryption-failed", DecryptionError),  # wire.errors take part too
        ("unknown-master-key", UnknownMasterKey),
        ("unavailable", Unavailable),
    ],
)
def test_problem_types_map_to_their_classes(code: str, cls: type[CoffreError]) -> None:
    error = error_from_problem(400, _problem(code))
    assert type(error) is cls and error.detail == "d" and error.code == code


def test_unknown_types_fall_back_on_the_status() -> None:
    assert type(error_from_problem(413, _problem("body-too-large"))) is InvalidInput
    assert type(error_from_problem(404, None)) is NotFound
    assert type(error_from_problem(500, _problem("internal"))) is Unavailable
    assert type(error_from_problem(405, _problem("method-not-allowed"))) is CoffreError


def test_field_is_kept() -> None:
    error = error_from_problem(422, _problem("invalid-input", field="title"))
    assert isinstance(error, InvalidInput) and error.field == "title"


def test_errors_through_the_real_app(
    connect: Connect, space: str, transport: object, enrol: Enrol
) -> None:
    hospital, patient, stranger = connect(HOSPITAL), connect(PATIENT), connect(STRANGER)
    with pytest.raises(SpaceAlreadyExists):
        hospital.provision(space)
    with pytest.raises(UnknownSpace):
        hospital.space_key(patient_id_from_number("1790612987654"))
    with pytest.raises(InvalidInput):
        hospital.provision("not-an-ins")
    with pytest.raises(Forbidden):
        patient.provision(patient_id_from_number("1790612987654"))
    with pytest.raises(Forbidden):
        stranger.grants(space)

    document_id, _ = hospital.deposit(space, b"x", type="lab_result", title="T", date=date.today())
    with pytest.raises(UnknownReaderKey):  # a read names a key that was never registered
        stranger.read(space, document_id, io.BytesIO())
    enrol(stranger, STRANGER)
    with pytest.raises(UnknownDocument):  # refused, and it looks like nothing is there
        stranger.read(space, document_id, io.BytesIO())

    unsigned = CoffreClient(BASE_URL, "eyJhbGciOiJub25lIn0.e30.", transport=transport)
    with pytest.raises(Unauthenticated):
        unsigned.documents(space)


def test_bad_metadata_is_refused_before_any_byte_is_sent(
    connect: Connect, space: str, coffre: Coffre
) -> None:
    hospital = connect(HOSPITAL)
    with pytest.raises(InvalidInput):
        hospital.deposit(space, b"x", type="horoscope", title="T", date=date.today())
    with pytest.raises(InvalidInput):
        hospital.deposit(space, b"x", type="lab_result", title="T", date="yesterday")
    assert not [p for p in (coffre.settings.data_dir / "blobs").rglob("*") if p.is_file()]


def test_reading_needs_a_reader_key(connect: Connect, space: str) -> None:
    client = connect(PATIENT)
    client.reader_key = None
    with pytest.raises(InvalidInput):
        client.read(space, "00000000-0000-0000-0000-000000000000", io.BytesIO())


def test_grant_revoke_and_the_access_log(connect: Connect, space: str, enrol: Enrol) -> None:
    hospital, patient, doctor = connect(HOSPITAL), connect(PATIENT), connect(DOCTOR)
    document_id, _ = hospital.deposit(
        space, b"cr", type="hospital_report", title="CR", date=date.today()
    )
    grant_id = patient.grant(
        space,
        {"id": DOCTOR.id, "name": DOCTOR.name, "profession": "doctor"},
        {"kind": "types", "types": ["hospital_report"]},
    )
    enrol(doctor, DOCTOR)
    doctor.read(space, document_id, io.BytesIO())
    (grant,) = patient.grants(space)
    assert (
        grant.grant_id == grant_id and grant.active and grant.scope["types"] == ["hospital_report"]
    )

    patient.revoke(space, grant_id)
    with pytest.raises(UnknownDocument):
        doctor.read(space, document_id, io.BytesIO())
    with pytest.raises(Conflict):
        patient.revoke(space, grant_id)

    page = patient.access_log(space, limit=2)
    assert len(page["entries"]) == 2 and page["next_cursor"] is not None
    entries = list(patient.access_log_entries(space, limit=2))  # every page, newest first
    actions = [(e["action"], e["outcome"]) for e in entries]
    assert actions[:3] == [("read", "refused"), ("revoke", "allowed"), ("read", "allowed")]
    assert actions[-1] == ("provision", "allowed")
    only_doctor = list(patient.access_log_entries(space, actor_id=DOCTOR.id))
    assert {e["actor"]["id"] for e in only_doctor} == {DOCTOR.id}


def test_transport_failures_are_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (
        CoffreClient(BASE_URL, "t", transport=httpx.MockTransport(refuse)) as client,
        pytest.raises(Unavailable),
    ):
        client.documents(PATIENT.id)


def _release(reader: ReaderKey, key: DataKey, ciphertext: bytes, content_url: str) -> bytes:
    """A read's answer, as the API gives it, releasing ``key`` to ``reader``."""
    document = {
        "document_id": DOCUMENT_ID,
        "type": "lab_result",
        "title": "T",
        "date": "2026-01-01",
        "version": 1,
        "author_name": "H",
        "author_organisation": None,
        "size": len(ciphertext),
        "deposited_at": "2026-01-01T00:00:00+00:00",
    }
    release = {
        "access_id": "0d2b0a8e-1c4f-4a57-8e33-1b2f3c4d5e6f",
        "document": document,
        "sha256": hashlib.sha256(ciphertext).hexdigest(),
        "sealed_key": base64.b64encode(seal(key, reader.public_key)).decode(),
        "content_url": content_url,
        "expires_at": "2026-01-01T00:05:00+00:00",
    }
    return json.dumps(release).encode()


PRESIGNED = "https://s3.example/bucket/blob?X-Amz-Signature=abc"


def test_the_token_never_goes_to_another_origin() -> None:
    # A presigned content URL on the blob store's host must not receive our bearer token.
    reader = ReaderKey.generate()
    key = DataKey.generate()
    ciphertext = b"".join(encrypt([b"secret"], key))
    seen: dict[str, str | None] = {}

    def server(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = request.headers.get("Authorization")
        if request.url.host == "s3.example":
            return httpx.Response(200, content=ciphertext)
        return httpx.Response(200, content=_release(reader, key, ciphertext, PRESIGNED))

    sink = io.BytesIO()
    with CoffreClient(
        BASE_URL, "tok", reader_key=reader, transport=httpx.MockTransport(server)
    ) as c:
        c.read(PATIENT.id, DOCUMENT_ID, sink)
    assert sink.getvalue() == b"secret"
    assert seen == {"coffre.test": "Bearer tok", "s3.example": None}


@pytest.mark.parametrize(
    ("status", "code", "raised"),
    [
        (403, "AccessDenied", IntegrityFailure),  # expired
        (403, "SignatureDoesNotMatch", IntegrityFailure),  # altered
        (400, "AuthorizationQueryParametersError", IntegrityFailure),
        (404, "NoSuchKey", NotFound),
        (503, "SlowDown", Unavailable),
    ],
)
def test_a_refused_presigned_download_is_typed(
    status: int, code: str, raised: type[CoffreError]
) -> None:
    # S3 answers XML, not problem+json: the SDK still raises one of our classes, naming
    # S3's error code but never the signed URL.
    reader = ReaderKey.generate()
    key = DataKey.generate()
    ciphertext = b"".join(encrypt([b"secret"], key))
    body = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>m</Message></Error>"

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.host == "s3.example":
            return httpx.Response(status, content=body.encode())
        return httpx.Response(200, content=_release(reader, key, ciphertext, PRESIGNED))

    with (
        CoffreClient(
            BASE_URL, "tok", reader_key=reader, transport=httpx.MockTransport(server)
        ) as c,
        pytest.raises(raised) as caught,
    ):
        c.read(PATIENT.id, DOCUMENT_ID, io.BytesIO())
    assert code in str(caught.value) and "X-Amz" not in str(caught.value)


def test_reader_key_files(tmp_path) -> None:
    key = ReaderKey.generate()
    path = tmp_path / "conf" / "reader.key"
    key.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert ReaderKey.load(path).key_id == key.key_id
    assert "secret=<redacted>" in repr(key) and key.public_key_b64 not in repr(key)
    with pytest.raises(FileExistsError):  # never clobber a key
        ReaderKey.generate().save(path)
    path.chmod(0o644)
    with pytest.raises(InsecureKeyFile):
        ReaderKey.load(path)


def test_device_key_files_and_the_legacy_format(tmp_path) -> None:
    key = ReaderKey.generate()
    path = tmp_path / "device.key"
    key.save(path)
    assert path.read_text().startswith("coffre-device-key-v1:")
    loaded = ReaderKey.load(path)
    assert loaded.can_sign and loaded.signing_key_b64 == key.signing_key_b64
    # its X25519 form is what data keys are sealed to, and the key id it is known by
    data = DataKey.generate()
    assert loaded.unseal(seal(data, key.public_key)) == data
    assert key.key_id == device_key_id(base64.b64decode(key.signing_key_b64))
    # A key file made before devices: it still opens data keys, and cannot sign.
    secret = PrivateKey.generate()
    legacy = tmp_path / "legacy.key"
    fd = os.open(legacy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"coffre-reader-key-v1:" + base64.b64encode(bytes(secret)) + b"\n")
    os.close(fd)
    old = ReaderKey.load(legacy)
    assert not old.can_sign and old.public_key == bytes(secret.public_key)
    assert old.unseal(seal(data, old.public_key)) == data and "legacy" in repr(old)
    with pytest.raises(InvalidKey, match="legacy"):
        old.sign(b"anything")
