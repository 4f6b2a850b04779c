"""Key management and envelope cryptography for Coffre.

- ``wire.envelope``   client-side document encryption (format v1) and data-key sealing
- ``keys.master``     versioned master keys: wrap, unwrap, derive
- ``keys.keystore``   the key store port, its in-memory fake, SQLite and PostgreSQL stores
- ``keys.keyring``    space key pairs: create, reseal (key release), destroy, rotate
- ``wire.errors``     the errors above raise, subclasses of ``wire.errors`` types

May import only ``domain``, the standard library, PyNaCl and psycopg.
"""
