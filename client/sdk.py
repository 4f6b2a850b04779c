"""The Python SDK: a client of the Coffre HTTP API that encrypts and decrypts locally.

::

    with CoffreClient(url, token, reader_key=ReaderKey.load(path)) as coffre:  # approved
        document_id, _ = coffre.deposit(patient_id, "bilan.pdf", type="lab_result",
                                        title="Bilan sanguin", date=date.today())
        coffre.read(patient_id, document_id, "copie.pdf")

The server never sees a plaintext document or a bare data key: ``deposit`` encrypts as
a stream into a chunked upload and seals the data key to the space's public key;
``read`` unseals the released key with the reader's secret key, fetches the ciphertext
(straight from S3 by presigned URL when the server gives one, else through the API),
checks its SHA-256 while streaming it and decrypts it as a stream. Memory stays flat at
any size.

Failures raise the very classes server code raises (``wire.errors``, ``wire.errors``),
rebuilt from the problem+json ``type``; a network failure raises ``Unavailable``.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from types import TracebackType
from typing import IO, Any
from uuid import UUID

import httpx

from client.devices import DeviceMethods
from client.io import Sink, as_uuid, blob_store_error, document_path, open_sink, space_path
from client.problems import Bearer, error_of, origin_of
from client.readerkey import ReaderKey
from client.rules import RuleMethods
from client.shapes import (
    Meter,
    Progress,
    Source,
    as_date,
    b64decode,
    open_source,
    parse_grant,
    parse_space_key,
    parse_summary,
)
from client.trail import TrailMethods
from wire.dto import DocumentSummary, GrantSummary, ProvisionedSpace, SpaceKeyInfo
from wire.envelope import DataKey, ciphertext_size, decrypt, encrypt, seal
from wire.errors import (
    IntegrityFailure,
    InvalidInput,
    Unavailable,
)
from wire.values import DocumentMetadata

__all__ = ["CoffreClient"]


class CoffreClient(DeviceMethods, RuleMethods, TrailMethods):
    """A session with one Coffre server, as the actor its bearer token names.

    The regulator's trail calls (``trail_*``) come from ``client.trail``; the
    rules of a space and notifications from ``client.rules``; reader devices from
    ``client.devices``.

    ``reader_key`` is this client's device key: needed only to read documents (a data
    key is sealed to it once it is an approved device) and to add or approve devices.
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        reader_key: ReaderKey | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 30.0,
    ) -> None:
        url = httpx.URL(base_url)
        self.reader_key = reader_key
        self._http = httpx.Client(
            base_url=url,
            auth=Bearer(token, url),
            transport=transport,
            timeout=timeout,
        )

    def __enter__(self) -> CoffreClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connections."""
        self._http.close()

    # -- spaces and keys -----------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """The server's health answer (``{"status": "ok"}``)."""
        return self._request("GET", "/v1/health")

    def provision(self, patient_id: str) -> ProvisionedSpace:
        """Provision a patient's space (services only): its key, when it opens, and the
        one-time code for the person's letter (given once, never stored in clear)."""
        data = self._request("POST", "/v1/spaces", json={"patient_id": patient_id})
        key = parse_space_key(data)
        opens_at = datetime.fromisoformat(data["opens_at"]) if data.get("opens_at") else None
        return ProvisionedSpace(
            key.patient_id,
            key.space_id,
            key.key_id,
            key.public_key,
            one_time_code=data["one_time_code"],
            opens_at=opens_at,
            reimported=bool(data.get("reimported")),
        )

    def activate(self, patient_id: str, code: str) -> None:
        """The patient activates their space with the letter's one-time code (it opens)."""
        self._request("POST", f"{space_path(patient_id)}/activation", json={"code": code})

    def space_key(self, patient_id: str) -> SpaceKeyInfo:
        """The public key data keys of this space are sealed to."""
        return parse_space_key(self._request("GET", f"{space_path(patient_id)}/key"))

    # -- documents -----------------------------------------------------------------

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
    ) -> tuple[UUID, int]:
        """Encrypt ``source`` (a path, a binary file, bytes or an iterable of bytes) and
        deposit it; returns ``(document_id, version)``.

        ``document_id`` deposits a new version of that document. Metadata is checked
        before any byte is sent. The confidentiality codes (RULES.md) are set with the
        deposit: ``masked`` (MASQUE_PS, hidden from professionals but its author),
        ``invisible_to_patient`` (INVISIBLE_PATIENT, held for an announcement
        consultation until its author releases it) and ``invisible_to_representatives``
        (INVISIBLE_REPRESENTANTS_LEGAUX).
        """
        metadata = DocumentMetadata(type=type, title=title, date=as_date(date))  # type: ignore[arg-type]
        space = self.space_key(patient_id)
        data_key = DataKey.generate()
        sealed = seal(data_key, base64.b64decode(space.public_key))
        with open_source(source) as (pieces, size):
            meter = Meter(progress, None if size is None else ciphertext_size(size))
            upload = self._request(
                "POST",
                f"{space_path(patient_id)}/uploads",
                content=meter.wrap(encrypt(pieces, data_key)),  # a generator: chunked upload
                headers={"Content-Type": "application/octet-stream"},
            )
        # The receipt must name exactly the bytes we sent, or the deposit would seal a key
        # to a ciphertext that is not ours.
        same_hash = hmac.compare_digest(str(upload["sha256"]), meter.hexdigest())
        if upload["size"] != meter.done or not same_hash:
            raise IntegrityFailure("the server stored different bytes than were sent")
        body: dict[str, Any] = {
            "receipt": upload["receipt"],
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
        answer = self._request("POST", f"{space_path(patient_id)}/documents", json=body)
        return UUID(answer["document_id"]), int(answer["version"])

    def read(
        self,
        patient_id: str,
        document_id: UUID | str,
        sink: Sink,
        *,
        progress: Progress | None = None,
    ) -> DocumentSummary:
        """Read a document (recorded in the patient's access log) and decrypt it into
        ``sink``; returns its summary.

        With a path, the plaintext goes to a temporary file in the same directory that
        is renamed into place only once the whole ciphertext verified: a tampered or
        truncated document never lands. With a file object, verified chunks are written
        as they come; on error the caller must discard what was written.
        """
        reader = self._reader()
        url = f"{document_path(patient_id, document_id)}/reads"
        # The sink opens first: an unwritable target must fail before a read is recorded.
        with open_sink(sink) as out:
            release = self._request("POST", url, json={"reader_key_id": reader.key_id})
            data_key = reader.unseal(b64decode(release["sealed_key"], "sealed_key"))
            self._fetch(release["content_url"], release["sha256"], data_key, out, progress)
        return parse_summary(release["document"])

    def documents(self, patient_id: str) -> list[DocumentSummary]:
        """The documents of a space this caller may read."""
        answer = self._request("GET", f"{space_path(patient_id)}/documents")
        return [parse_summary(item) for item in answer["documents"]]

    def delete(self, patient_id: str, document_id: UUID | str) -> None:
        """Delete a document (the patient only)."""
        self._request("DELETE", document_path(patient_id, document_id))

    # -- grants and the access log ---------------------------------------------------

    def grant(
        self,
        patient_id: str,
        grantee: Mapping[str, Any],
        scope: Mapping[str, Any] | None = None,
        expires_at: datetime | None = None,
    ) -> UUID:
        """Grant a professional (``{id, name, profession, organisation?}``) access to a
        scope (default: the whole space); returns the grant id. One grant per
        professional: granting again changes their active grant and returns its id."""
        body: dict[str, Any] = {"grantee": dict(grantee), "scope": dict(scope or {"kind": "space"})}
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        return UUID(
            self._request("POST", f"{space_path(patient_id)}/grants", json=body)["grant_id"]
        )

    def grants(self, patient_id: str) -> list[GrantSummary]:
        """Every grant of the space, active or not (the patient only)."""
        answer = self._request("GET", f"{space_path(patient_id)}/grants")
        return [parse_grant(item) for item in answer["grants"]]

    def revoke(self, patient_id: str, grant_id: UUID | str) -> None:
        """Revoke a grant; the grantee's very next read is refused."""
        self._request("DELETE", f"{space_path(patient_id)}/grants/{as_uuid(grant_id, 'grant_id')}")

    def revoke_professional(self, patient_id: str, professional_id: str) -> None:
        """Revoke a professional's access (their active grant, whatever its id); raises
        ``UnknownGrant`` when they hold none."""
        self._request(
            "DELETE", f"{space_path(patient_id)}/grants", params={"professional": professional_id}
        )

    def access_log(
        self,
        patient_id: str,
        *,
        before: int | None = None,
        limit: int | None = None,
        actor_id: str | None = None,
        document_id: UUID | str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        """One page of the patient's access log, newest first: ``{entries, next_cursor}``."""
        query = {
            "before": before,
            "limit": limit,
            "actor_id": actor_id,
            "action": action,
            "document_id": None if document_id is None else as_uuid(document_id, "document_id"),
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }
        params = {name: str(value) for name, value in query.items() if value is not None}
        return self._request("GET", f"{space_path(patient_id)}/access-log", params=params)

    def access_log_entries(self, patient_id: str, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every access-log entry matching ``filters`` (see :meth:`access_log`), page by page."""
        before = filters.pop("before", None)
        while True:
            page = self.access_log(patient_id, before=before, **filters)
            yield from page["entries"]
            before = page.get("next_cursor")
            if before is None:
                return

    # -- internals -----------------------------------------------------------------

    def _reader(self) -> ReaderKey:
        if self.reader_key is None:
            raise InvalidInput("this client has no reader key", field="reader_key")
        return self.reader_key

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.RequestError as error:
            where = self._http.base_url
            raise Unavailable(f"cannot reach Coffre at {where}: {type(error).__name__}") from None
        if response.is_error:
            raise error_of(response)
        try:
            return response.json() if response.content else None
        except ValueError:  # a proxy's HTML page, say: not the API we expect
            raise Unavailable("the server's answer is not Coffre JSON") from None

    def _fetch(
        self, url: str, sha256: str, key: DataKey, out: IO[bytes], progress: Progress | None
    ) -> None:
        # A presigned S3 URL (the default with S3) goes straight to the blob store; the
        # API's own /v1/content/<ticket> route is the fallback. Either way the bytes are
        # checked against the recorded hash before the last record is released.
        from_api = self._is_api(url)
        try:
            with self._http.stream("GET", url) as response:
                if response.is_error:
                    body = response.read()
                    if from_api:
                        raise error_of(response)
                    raise blob_store_error(response.status_code, body)
                length = response.headers.get("Content-Length")
                meter = Meter(progress, int(length) if length and length.isdigit() else None)

                def verified() -> Iterator[bytes]:
                    yield from meter.wrap(response.iter_bytes())
                    # decrypt() releases the final record only after this check passed
                    if not hmac.compare_digest(meter.hexdigest(), str(sha256)):
                        raise IntegrityFailure("the ciphertext does not match its recorded hash")

                for plaintext in decrypt(verified(), key):
                    out.write(plaintext)
        except httpx.RequestError as error:
            # never echo the URL: it carries the content ticket or the S3 signature
            raise Unavailable(f"the download failed: {type(error).__name__}") from None

    def _is_api(self, url: str) -> bool:
        target = httpx.URL(url)
        return target.is_relative_url or origin_of(target) == origin_of(self._http.base_url)
