"""The read ahead of a download (client.readahead): order, hashing, errors, bounds, stop."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator

import pytest

from client.readahead import ReadAhead


def test_it_yields_every_piece_in_order_and_hashes_each_in_its_thread() -> None:
    pieces = [bytes([n]) * (n + 1) for n in range(200)]
    sha = hashlib.sha256()
    threads: set[str] = set()

    def each(piece: bytes) -> None:
        threads.add(threading.current_thread().name)
        sha.update(piece)

    with ReadAhead(iter(pieces), each) as ahead:
        got = list(ahead)
    assert got == pieces
    assert sha.digest() == hashlib.sha256(b"".join(pieces)).digest()
    assert threads == {"coffre-read-ahead"}


def test_the_sources_error_is_raised_in_the_callers_thread_after_the_pieces_before_it() -> None:
    def source() -> Iterator[bytes]:
        yield b"a"
        yield b"b"
        raise ConnectionResetError("gone")

    with ReadAhead(source(), lambda _: None) as ahead:
        assert next(ahead) == b"a"
        assert next(ahead) == b"b"
        with pytest.raises(ConnectionResetError, match="gone"):
            next(ahead)
        with pytest.raises(StopIteration):
            next(ahead)


def test_it_reads_a_bounded_number_of_pieces_ahead() -> None:
    taken = 0

    def source() -> Iterator[bytes]:
        nonlocal taken
        for _ in range(1_000):
            taken += 1
            yield b"x" * 10

    with ReadAhead(source(), lambda _: None, depth=4) as ahead:
        next(ahead)
        time.sleep(0.3)  # room for the thread to run ahead as far as it may
        # the one taken, four queued, one waiting for room
        assert taken <= 1 + 4 + 1


def test_closing_midway_stops_the_thread_without_reading_the_rest() -> None:
    taken = 0

    def source() -> Iterator[bytes]:
        nonlocal taken
        while True:
            taken += 1
            yield b"x"

    ahead = ReadAhead(source(), lambda _: None, depth=2)
    next(ahead)
    ahead.close()
    ahead._thread.join(timeout=5)
    assert not ahead._thread.is_alive()
    assert taken < 10
    with pytest.raises(StopIteration):
        next(ahead)
