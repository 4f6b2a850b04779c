"""Tests of the client wing as installed alone.

Not named ``client``: ``tests/`` is on ``sys.path`` while the suite runs, so a test
package called ``client`` would stand in for the real one, and ``client.sdk`` would then
be whatever the installed distribution points at rather than this tree's code.
"""
