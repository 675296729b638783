"""What waits for the logged-in person on their home page: invitations and sign-offs that are
theirs to answer, so an e-mailed link is never the only way in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Waiting:
    invitations: list = field(default_factory=list)  # applications.Collaborator, open, addressed to them
    panel_invitations: list = field(default_factory=list)  # reviews.PanelMember, invited
    sign_offs: list = field(default_factory=list)  # applications.Partner whose contact they are
    report_sign_offs: list = field(default_factory=list)  # (Partner, awards.Milestone) reports to sign off

    def __bool__(self) -> bool:
        return bool(self.invitations or self.panel_invitations or self.sign_offs or self.report_sign_offs)


def waiting_for(user) -> Waiting:
    """One query per kind, whatever the number of items."""
    from grants.applications.services import open_invitations_for, sign_offs_waiting_for
    from grants.reports.services import report_sign_offs_waiting_for
    from grants.reviews.services import open_panel_invitations_for

    return Waiting(invitations=open_invitations_for(user), panel_invitations=open_panel_invitations_for(user),
                   sign_offs=sign_offs_waiting_for(user), report_sign_offs=report_sign_offs_waiting_for(user))
