"""The embedded development OpenID provider (``/idp``), built on authlib.

It stands beside ``api`` (neither imports the other): the composition root builds it
(``coffre.bootstrap``) and mounts it (``coffre.asgi``). It is on for the embedded
default and refused in production (``COFFRE_ENV=production``), where Coffre trusts only
the configured OpenID providers.
"""
