"""A small reference model of RULES.md, written apart from the production code.

``outcome(history)`` is a plain function: from a list of steps (what happened, who did
it, when) to what the last step must give — ``ok``, the error a command must raise,
a read's decision (``allowed`` and how, or ``refused`` and the rule), or a listing. It
imports nothing of ``domain`` (no policy, no ``Space``): the rules, the matrix and the
durations are restated here from RULES.md and docs/rules.md, so that a mistake in the
production code has to be made twice, independently, to go unnoticed.

Actors are names: ``patient``, ``parent`` (a legal representative of a minor),
professionals ``doc_a`` ``doc_b`` (doctors) ``dentist`` ``nurse`` ``social``, services
``hospital`` ``lab``, and ``regulator``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

OPPOSITION = timedelta(weeks=6)
EMERGENCY = timedelta(hours=24)
ARCHIVE_YEARS = 10
MAX_CODE_FAILURES = 5

PROFESSIONALS = {
    "doc_a": "doctor",
    "doc_b": "doctor",
    "dentist": "dentist",
    "nurse": "nurse",
    "social": "social_worker",
}
SERVICES = {"hospital", "lab"}
#: the matrix restated for the types the machine deposits (docs/rules.md)
SEES = {
    "doctor": {
        "lab_result",
        "psychiatric_summary",
        "social_care",
        "imaging_report",
        "prescription",
    },
    "dentist": {"lab_result", "imaging_report", "prescription"},
    "nurse": {"lab_result", "imaging_report", "prescription"},
    "social_worker": {"social_care"},
}


def plus_months(t: datetime, months: int) -> datetime:
    """Calendar months later, on the month's last day when the day does not exist."""
    year, month = divmod(t.month - 1 + months, 12)
    year += t.year
    month += 1
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


def plus_years(t: datetime, years: int) -> datetime:
    """Calendar years later; 29 February becomes 1 March."""
    if (t.month, t.day) == (2, 29) and not calendar.isleap(t.year + years):
        return t.replace(year=t.year + years, month=3, day=1)
    return t.replace(year=t.year + years)


@dataclass(frozen=True)
class Step:
    """One thing that happened: ``kind`` by ``by`` at ``t``, with ``args``."""

    kind: str
    t: datetime
    by: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Doc:
    author: str
    type: str
    masked: bool = False
    secret: bool = False
    visible_at: datetime | None = None  # held for an announcement until then...
    released: bool = False  # ...or until its author releases it
    deleted: bool = False


@dataclass
class _Grant:
    grantee: str
    types: set[str] | None  # None: the whole space
    documents: set[str] | None
    expires: datetime | None
    care_team: bool
    revoked: bool = False

    def live(self, t: datetime) -> bool:
        """Neither revoked nor expired at ``t``."""
        return not self.revoked and (self.expires is None or t < self.expires)


def _grant(w: _World, a: dict[str, Any], new: _Grant, t: datetime) -> str:
    """One grant per professional: their live grant is changed (and keeps its id, which
    the vault must answer), else ``new`` is added under the vault's new id."""
    current = next((k for k, g in w.grants.items() if g.grantee == new.grantee and g.live(t)), None)
    if current is None:
        w.grants[a["grant"]] = new
        return "ok"
    if a["grant"] != current:
        return "a second grant"
    w.grants[current] = new
    return "ok"


@dataclass
class _World:
    status: str = "pending"
    opens_at: datetime | None = None
    activated: bool = False
    code: bool = True  # a usable code exists
    failures: int = 0
    deletion_due: datetime | None = None
    majority: datetime | None = None
    parent_revoked: bool = False
    parent_exists: bool = False
    docs: dict[str, _Doc] = field(default_factory=dict)
    grants: dict[str, _Grant] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    attending: str | None = None
    settings: dict[str, bool] = field(
        default_factory=lambda: {
            "emergency_access_forbidden": False,
            "emergency_reveals_masked": False,
            "attending_physician_sees_masked": False,
        }
    )
    emergencies: list[list[Any]] = field(default_factory=list)  # [who, start, end]

    def open(self, t: datetime) -> bool:
        return self.status == "open" or (
            self.status == "pending" and self.opens_at is not None and t >= self.opens_at
        )

    def effective(self, t: datetime) -> str:
        return "open" if self.open(t) else self.status

    def parent_active(self, t: datetime) -> bool:
        return (
            self.parent_exists
            and not self.parent_revoked
            and (self.majority is None or t < self.majority)
        )

    def holder(self, who: str | None, t: datetime) -> bool:
        return who == "patient" or (who == "parent" and self.parent_active(t))


def _read(w: _World, doc_id: str, reader: str, t: datetime) -> tuple[str, str]:
    """RULES.md "Who may read a document", in order: (allowed, how) or (refused, rule)."""
    if not w.open(t):
        return ("refused", "space_not_open")
    doc = w.docs.get(doc_id)
    if doc is None:
        return ("refused", "unknown_document")
    if doc.deleted:
        return ("refused", "document_deleted")
    pro = reader in PROFESSIONALS
    if reader == "patient":
        how = "patient"
    elif reader == "parent" and w.parent_active(t):
        how = "representative"
    elif (pro or reader in SERVICES) and reader == doc.author:
        how = "author"
    elif pro and any(e[0] == reader and e[1] <= t < e[2] for e in w.emergencies):
        how = "emergency"
    else:
        how = ""
        if pro:
            for grant in w.grants.values():  # the first covering grant, in creation order
                covers = (
                    (grant.types is None and grant.documents is None)
                    or (grant.types is not None and doc.type in grant.types)
                    or (grant.documents is not None and doc_id in grant.documents)
                )
                if grant.grantee == reader and covers and grant.live(t):
                    how = "care_team" if grant.care_team else "grant"
                    break
        if not how:
            return ("refused", "not_authorised")
    if pro:
        if reader in w.blocked:
            return ("refused", "blocked")
        if doc.type not in SEES[PROFESSIONALS[reader]]:
            return ("refused", "profession_matrix")
        lifted = (
            how == "author"
            or (reader == w.attending and w.settings["attending_physician_sees_masked"])
            or (how == "emergency" and w.settings["emergency_reveals_masked"])
        )
        if doc.masked and not lifted:
            return ("refused", "masked_from_professionals")
    held = doc.visible_at is not None and not doc.released and t < doc.visible_at
    if how in ("patient", "representative") and held:
        return ("refused", "invisible_to_patient")
    if how == "representative" and doc.secret:
        return ("refused", "invisible_to_representatives")
    return ("allowed", how)


def _sees(w: _World, doc_id: str, who: str, t: datetime) -> bool:
    return _read(w, doc_id, who, t)[0] == "allowed"


def _shred(w: _World) -> None:
    w.status = "deleted"
    w.deletion_due = None
    for doc in w.docs.values():
        doc.deleted = True


def _tick(w: _World, t: datetime) -> None:
    # What the scheduler does that changes an outcome: representation ends at
    # majority (recorded), an archive whose deletion came due is shredded.
    if w.status == "closed" and w.deletion_due is not None and w.deletion_due <= t:
        _shred(w)


def _code(w: _World, good: bool) -> str:
    if not w.code or w.failures >= MAX_CODE_FAILURES:
        return "Conflict"
    if not good:
        w.failures += 1
        return "Refused"
    return "ok"


def _apply(w: _World, s: Step) -> Any:
    t, by, a = s.t, s.by, s.args
    k = s.kind
    outsider = by in ("patient", "parent", "regulator") and not w.holder(by, t)
    if outsider and k not in ("provision", "tick", "read", "list"):
        # Whoever does not hold the space may not learn that it exists: they get what a
        # missing space gets, before any other rule (issue 9, item 9).
        return "UnknownSpace"
    if k == "provision":
        w.opens_at = t + OPPOSITION
        w.majority = a.get("majority")
        w.parent_exists = a.get("parent", False)
        return "ok"
    if k == "tick":
        _tick(w, t)
        return "ok"
    if k in ("read",):
        return _read(w, a["doc"], by or "", t)
    if k == "list":
        return frozenset(d for d in w.docs if _sees(w, d, by or "", t))
    if k == "oppose":
        if not w.holder(by, t):
            return "Forbidden"
        if w.effective(t) != "pending":
            return "Conflict"
        result = _code(w, a["good"])
        if result == "ok":
            w.status, w.code = "opposed", False
        return result
    if k == "activate":
        if not w.holder(by, t):
            return "Forbidden"
        if w.effective(t) not in ("pending", "open") or w.activated:
            return "Conflict"
        result = _code(w, a["good"])
        if result == "ok":
            w.status, w.activated, w.code = "open", True, False
        return result
    if k == "deposit":
        if by in ("patient", "parent") and not w.holder(by, t):
            return "Forbidden"
        if not w.open(t):
            return "Conflict"
        w.docs[a["doc"]] = _Doc(
            author=by or "",
            type=a["type"],
            masked=a.get("masked", False),
            secret=a.get("secret", False),
            visible_at=plus_months(t, 1) if a.get("held") else None,
        )
        return "ok"
    if k == "delete":
        if not w.holder(by, t):
            return "Forbidden"
        if not w.open(t):
            return "Conflict"
        doc = w.docs.get(a["doc"])
        if doc is not None and doc.deleted:
            return "Conflict"
        if not _sees(w, a["doc"], by or "", t):
            return "UnknownDocument"
        w.docs[a["doc"]].deleted = True
        return "ok"
    if k == "grant":
        if a["grantee"] == by:
            return "InvalidInput"
        if not w.holder(by, t):
            return "Forbidden"
        if not w.open(t):
            return "Conflict"
        documents = a.get("documents")
        if documents is not None and not all(_sees(w, d, by or "", t) for d in documents):
            return "InvalidInput"
        return _grant(
            w, a, _Grant(a["grantee"], a.get("types"), documents, a.get("expires"), False), t
        )
    if k == "care_team":
        if not w.open(t):
            return "Conflict"
        return _grant(w, a, _Grant(a["grantee"], None, None, a.get("expires"), True), t)
    if k == "revoke":
        if not w.holder(by, t):
            return "Forbidden"
        grant = w.grants.get(a["grant"])
        if grant is None:
            return "UnknownGrant"
        if grant.revoked:
            return "Conflict"
        # Revoking a grant revokes the professional's access: any other live grant too.
        for other in w.grants.values():
            if other is grant or (other.grantee == grant.grantee and other.live(t)):
                other.revoked = True
        return "ok"
    if k in ("mask", "unmask"):
        if not w.open(t):
            return "Conflict"
        if k == "unmask" and not w.holder(by, t):
            return "Forbidden"
        if not _sees(w, a["doc"], by or "", t):
            return "UnknownDocument"
        doc = w.docs[a["doc"]]
        if k == "mask" and not (
            w.holder(by, t) or (by == doc.author and by not in ("patient", "parent"))
        ):
            return "Forbidden"
        doc.masked = k == "mask"
        return "ok"
    if k in ("block", "unblock", "attending", "setting"):
        if not w.holder(by, t):
            return "Forbidden"
        if not w.open(t):
            return "Conflict"
        if k == "block":
            w.blocked.add(a["pro"])
        elif k == "unblock":
            w.blocked.discard(a["pro"])
        elif k == "attending":
            w.attending = a["pro"]
        else:
            w.settings[a["name"]] = a["value"]
        return "ok"
    if k == "end_representation":
        if not w.parent_exists:
            return "UnknownRepresentative"
        ended = w.parent_revoked or (w.majority is not None and w.majority <= t)
        if ended:
            return "Conflict"
        w.parent_revoked = True
        return "ok"
    if k == "emergency":
        if not w.open(t):
            return "Conflict"
        if by == "social":  # L1111-17: a health professional's act; social staff are not
            return "Refused"
        if w.settings["emergency_access_forbidden"]:
            return "Refused"
        w.emergencies.append([by, t, t + EMERGENCY])
        return "ok"
    if k == "release":
        if not _sees(w, a["doc"], by or "", t):
            return "UnknownDocument"
        doc = w.docs[a["doc"]]
        if by != doc.author or by in ("patient", "parent"):  # a professional's act
            return "Forbidden"
        if doc.visible_at is None or doc.released or t >= doc.visible_at:
            return "Conflict"
        doc.released = True
        return "ok"
    if k == "close":
        if not w.holder(by, t):
            return "Forbidden"
        if not w.open(t):
            return "Conflict"
        w.status = "closed"
        w.deletion_due = t if a["express"] else plus_years(t, ARCHIVE_YEARS)
        for grant in w.grants.values():
            grant.revoked = True
        for emergency in w.emergencies:
            emergency[2] = min(emergency[2], t)
        if a["express"]:
            _shred(w)
        return "ok"
    if k == "reopen":
        _tick(w, t)  # the vault applies what fell due first
        if w.effective(t) not in ("closed", "opposed", "deleted"):
            return "Conflict"
        w.status, w.activated, w.code, w.failures = "open", False, True, 0
        w.deletion_due = None
        return "ok"
    raise ValueError(f"unknown step {k!r}")


def outcome(history: list[Step]) -> Any:
    """What the last step of ``history`` must give, the steps before it having happened."""
    world = _World()
    result: Any = None
    for step in history:
        result = _apply(world, step)
    return result
