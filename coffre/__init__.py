"""Coffre's entry points: the composition root and the ``coffre`` command.

This package sits above every layer (like the tests): it is the one place that knows
which concrete backends go together.
"""
