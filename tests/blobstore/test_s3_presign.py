"""GetPresigner (``vault.blobstore_s3_presign``): its presigned GET URLs are minio's,
byte for byte, and the real S3 server honours them.

The comparisons build ``Minio`` clients with a region, so that presigning sends nothing;
the last tests use the real S3 server (``s3_server``, see tests/conftest.py).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from minio import Minio

from tests.served import free_port
from vault.blobstore import BlobStoreUnavailable, new_name
from vault.blobstore_s3 import S3BlobStore
from vault.blobstore_s3_presign import GetPresigner

#: (endpoint, secure): host:port, default ports, IPv6, and AWS (virtual-host style
#: unless the bucket name has dots)
ENDPOINTS = [
    ("127.0.0.1:7480", False),
    ("s3.example.org", True),
    ("s3.example.org:443", True),
    ("[::1]:9000", False),
    ("s3.eu-west-3.amazonaws.com", True),
]
BUCKETS = ["coffre-blobs", "coffre.blobs.example"]
#: (access key, secret key), with the characters that URL-encoding changes
KEYS = [
    ("F2641ACC0CC9869ECDD9", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("AK/I+A=EXAMPLE/KEY+", "s3cr/t+k3y=with/slash+plus=="),
]
REGIONS = ["us-east-1", "eu-west-3"]

SECOND = timedelta(seconds=1)
WEEK = timedelta(days=7)

NAMES = st.text(alphabet="0123456789abcdef", min_size=32, max_size=64)
EXPIRIES = st.one_of(
    st.integers(1, int(WEEK.total_seconds())).map(lambda s: timedelta(seconds=s)),
    st.timedeltas(min_value=SECOND, max_value=WEEK),  # fractional seconds
)
ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=5, minutes=30)),
        timezone(-timedelta(hours=11)),
        ZoneInfo("Europe/Paris"),
        ZoneInfo("Pacific/Chatham"),
        ZoneInfo("America/St_Johns"),
    ]
)
INSTANTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2199, 12, 31), timezones=ZONES
)


@functools.cache
def signers(
    endpoint: str, secure: bool, bucket: str, keys: tuple[str, str], region: str
) -> tuple[Minio, GetPresigner]:
    """minio's client for one combination, and our presigner built from it."""
    access_key, secret_key = keys
    minio = Minio(
        endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region
    )
    return minio, GetPresigner(minio, bucket, access_key, secret_key)


def minio_url(minio: Minio, bucket: str, name: str, expires: timedelta, now: datetime) -> str:
    return minio.presigned_get_object(bucket, name, expires=expires, request_date=now)


def query_of(url: str) -> dict[str, str]:
    return dict(httpx.URL(url).params)


@settings(max_examples=500, deadline=None)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    bucket=st.sampled_from(BUCKETS),
    keys=st.sampled_from(KEYS),
    region=st.sampled_from(REGIONS),
    name=NAMES,
    expires=EXPIRIES,
    now=INSTANTS,
)
def test_urls_are_minios_byte_for_byte(
    endpoint: tuple[str, bool],
    bucket: str,
    keys: tuple[str, str],
    region: str,
    name: str,
    expires: timedelta,
    now: datetime,
) -> None:
    minio, presigner = signers(*endpoint, bucket, keys, region)
    assert presigner.url(name, expires, now) == minio_url(minio, bucket, name, expires, now)


def test_both_url_styles_are_minios_choice() -> None:
    # the AWS endpoint: virtual-host style, unless the bucket's dots forbid it (TLS)
    name, now = "ab" * 16, datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
    for bucket, start in (
        ("coffre-blobs", "https://coffre-blobs.s3.eu-west-3.amazonaws.com/" + name + "?"),
        (
            "coffre.blobs.example",
            f"https://s3.eu-west-3.amazonaws.com/coffre.blobs.example/{name}?",
        ),
    ):
        minio, presigner = signers("s3.eu-west-3.amazonaws.com", True, bucket, KEYS[0], "eu-west-3")
        url = presigner.url(name, timedelta(hours=1), now)
        assert url.startswith(start)
        assert url == minio_url(minio, bucket, name, timedelta(hours=1), now)


@pytest.mark.parametrize("region", REGIONS)
def test_the_region_is_read_off_minios_sample(region: str) -> None:
    access_key, secret_key = KEYS[1]
    minio = Minio(
        "127.0.0.1:7480", access_key=access_key, secret_key=secret_key, secure=False, region=region
    )
    presigner = GetPresigner(minio, "coffre-blobs", access_key, secret_key)
    assert presigner.region == region
    name, expires, now = "0f" * 16, timedelta(minutes=5), datetime(2025, 6, 1, 12, tzinfo=UTC)
    url = presigner.url(name, expires, now)
    assert query_of(url)["X-Amz-Credential"] == f"{access_key}/20250601/{region}/s3/aws4_request"
    assert url == minio_url(minio, "coffre-blobs", name, expires, now)


def test_keys_other_than_the_signers_are_refused() -> None:
    minio = Minio("127.0.0.1:7480", access_key="AK", secret_key="SK", secure=False, region="r1")
    with pytest.raises(ValueError, match="differ from minio's"):
        GetPresigner(minio, "coffre-blobs", "AK", "another secret")
    with pytest.raises(ValueError, match="differ from minio's"):
        GetPresigner(minio, "coffre-blobs", "another key", "SK")


def test_the_signing_key_changes_with_the_utc_day() -> None:
    # the same presigner across midnight UTC (and back): each URL is minio's
    minio, presigner = signers("s3.example.org", True, "coffre-blobs", KEYS[1], "eu-west-3")
    name, expires = "0123456789abcdef" * 2, timedelta(minutes=10)
    before = datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    after = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    paris = after.astimezone(ZoneInfo("Europe/Paris"))  # 01:00 there, same UTC day
    for now in (before, after, paris, before):
        assert presigner.url(name, expires, now) == minio_url(
            minio, "coffre-blobs", name, expires, now
        )
    dates = {query_of(presigner.url(name, expires, now))["X-Amz-Date"] for now in (before, after)}
    assert dates == {"20251231T235959Z", "20260101T000000Z"}


def test_a_naive_instant_is_utc_as_for_minio() -> None:
    minio, presigner = signers("127.0.0.1:7480", False, "coffre-blobs", KEYS[0], "us-east-1")
    now = datetime(2025, 3, 30, 1, 30)
    url = presigner.url("ab" * 20, timedelta(hours=2), now)
    assert url == minio_url(minio, "coffre-blobs", "ab" * 20, timedelta(hours=2), now)
    assert query_of(url)["X-Amz-Date"] == "20250330T013000Z"


def test_the_default_instant_is_now() -> None:
    _, presigner = signers("127.0.0.1:7480", False, "coffre-blobs", KEYS[0], "us-east-1")
    query = query_of(presigner.url(new_name(), timedelta(minutes=1)))
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(signed_at - datetime.now(UTC)) < timedelta(seconds=5)
    assert query["X-Amz-Expires"] == "60"


def test_the_stores_urls_are_its_signers() -> None:
    # two endpoints with public names: signers that know their region, so no request
    store = S3BlobStore(
        "127.0.0.1:7480,127.0.0.2:7480",
        KEYS[1][0],
        KEYS[1][1],
        "coffre-blobs",
        region="eu-west-3",
        public_endpoint="https://s3-a.example.org,https://s3-b.example.org:8443",
    )
    name, expires = new_name(), timedelta(minutes=15)
    urls = [store.url_for_get(name, expires), *store.alternate_urls_for_get(name, expires)]
    for url, signer in zip(urls, store._signers, strict=True):
        assert url is not None
        signed_at = datetime.strptime(query_of(url)["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        assert url == minio_url(signer, "coffre-blobs", name, expires, signed_at)
    assert [httpx.URL(url or "").host for url in urls] == ["s3-a.example.org", "s3-b.example.org"]


def test_a_failed_region_lookup_is_translated_and_retried() -> None:
    # The single endpoint's signer has no region: minio asks the server on the first
    # presign; with nothing listening that fails as any request would, and no presigner
    # is kept, so the next read asks again.
    store = S3BlobStore(
        f"127.0.0.1:{free_port()}", "AK", "SK", "coffre-nowhere", timeout=1, retries=0
    )
    for _ in range(2):
        with pytest.raises(BlobStoreUnavailable, match="S3 presign"):
            store.url_for_get(new_name(), timedelta(minutes=1))
    assert store._presigners.built == {}


@pytest.mark.s3
def test_the_s3_server_serves_the_url_and_refuses_a_forged_one(
    s3_server: dict[str, str], s3_bucket: str
) -> None:
    store = S3BlobStore(**s3_server, bucket=s3_bucket)  # no region: minio asks the server
    store.ensure_bucket()
    name = new_name()
    store.put(name, [b"ciphertext of the document"])
    url = store.url_for_get(name, timedelta(minutes=5))
    assert url is not None
    assert url.startswith(f"http://{s3_server['endpoint']}/{s3_bucket}/{name}?")
    assert httpx.get(url).content == b"ciphertext of the document"
    # one character of the signature changed: refused
    last = url[-1]
    forged = url[:-1] + ("0" if last != "0" else "1")
    assert httpx.get(forged).status_code == 403
    # the presigner is kept and still signs what the server accepts
    assert len(store._presigners.built) == 1
    again = store.url_for_get(name, timedelta(seconds=30))
    assert again is not None
    assert httpx.get(again).content == b"ciphertext of the document"
