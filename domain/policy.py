"""The read decisions' former home: they live in ``domain.reads`` (issue 10).

Kept so that callers not yet moved keep importing; new code imports ``domain.reads``.
"""

from domain.reads import (
    Decision,
    Mode,
    Rule,
    decide_read,
    may_deposit,
    may_know_space,
    may_list,
    readers,
    require_depositor,
)

__all__ = [
    "Decision",
    "Mode",
    "Rule",
    "decide_read",
    "may_deposit",
    "may_know_space",
    "may_list",
    "readers",
    "require_depositor",
]
