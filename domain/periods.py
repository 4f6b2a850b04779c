"""The durations of RULES.md, as one configuration object with the legal defaults.

Every deadline is computed once, when the command that starts it runs, and stored in
that command's event as an instant: a later change of configuration never moves a
deadline already announced to a patient (a letter said "before 14 December").
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from wire.errors import InvalidInput

#: civil dates (a birthday, a majority) begin at midnight in metropolitan France
CIVIL_ZONE = ZoneInfo("Europe/Paris")

#: CSP R1111-36: on express request, deletion happens within three months
EXPRESS_DELETION_LIMIT = timedelta(days=92)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months, clamped to the month's last day (31 Jan + 1 = 28 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_years(day: date, years: int) -> date:
    """``day`` plus calendar years; 29 February becomes 1 March in common years.

    (French civil law counts a person born on 29 February as having their birthday on
    1 March in common years for majority; the same rule is used for every period.)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def add_years_to_instant(moment: datetime, years: int) -> datetime:
    """An instant ``years`` calendar years later, same time of day and zone."""
    shifted = add_years(moment.date(), years)
    return moment.replace(year=shifted.year, month=shifted.month, day=shifted.day)


@dataclass(frozen=True)
class Periods:
    """How long each time-based rule lasts (RULES.md defaults)."""

    #: from provisioning to opening; the person may oppose meanwhile (service-public)
    opposition: timedelta = timedelta(weeks=6)
    #: how long a closed space's data is archived before deletion (CSP R1111-36)
    archive_years: int = 10
    #: from an express deletion request to the deletion; at most three months
    express_deletion: timedelta = timedelta(0)
    #: how long a declared emergency access lasts (CSP R1111-48)
    emergency: timedelta = timedelta(hours=24)
    #: after a deposit held for an announcement consultation, the patient is told (R1111-53)
    announcement_notice: timedelta = timedelta(weeks=2)
    #: ... and the document becomes visible to them anyway (R1111-53)
    announcement_months: int = 1
    #: legal majority, when a parent's representation of a minor ends
    majority_years: int = 18

    def __post_init__(self) -> None:
        if self.opposition < timedelta(0) or self.emergency <= timedelta(0):
            raise InvalidInput("periods must be positive", field="periods")
        if not timedelta(0) <= self.express_deletion <= EXPRESS_DELETION_LIMIT:
            raise InvalidInput("express deletion happens within three months", field="periods")
        if self.archive_years < 0 or self.announcement_months < 0 or self.majority_years < 1:
            raise InvalidInput("periods must be positive", field="periods")
        if self.announcement_notice < timedelta(0):
            raise InvalidInput("periods must be positive", field="periods")

    def majority(self, birth_date: date) -> datetime:
        """The instant a person born on ``birth_date`` comes of age (midnight, Paris)."""
        civil = datetime.combine(
            add_years(birth_date, self.majority_years), time(0), tzinfo=CIVIL_ZONE
        )
        return civil.astimezone(UTC)  # events store UTC instants
