"""Fault tests: real engines killed and broken under load (issue 16).

Each module starts what it breaks (a Patroni cluster, a three-OSD Ceph, ``coffre serve``
workers) on loopback ports of its own, injects a bounded number of faults, and checks
that nothing acknowledged was lost. ``scripts/test`` runs this folder after the rest
of the suite, in one process (``./scripts/test -m faults`` runs it alone).
"""
