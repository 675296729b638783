"""Who answers a check-in and who reads it.

Each organisation of the partnership answers for itself: any of its people on the award's
team (the application's owner or an active collaborator) whose account belongs to it. A
partner's answers are read by funder staff and by that partner's own people only: never by
the lead, so a partner can say what it would not say in front of the lead.
"""

from __future__ import annotations

from grants.accounts.permissions import is_staff
from grants.awards.permissions import is_grantee


def can_answer_for(user, award, organisation_id: int) -> bool:
    """``user`` is on the award's team and belongs to ``organisation_id``."""
    return is_grantee(user, award) and user.organisation_id == organisation_id


def can_read_check_in(user, award, check_in) -> bool:
    return is_staff(user) or can_answer_for(user, award, check_in.organisation_id)


def can_follow_up(user) -> bool:
    """See every check-in of an award, its trend and flags, and write follow-up notes."""
    return is_staff(user)
