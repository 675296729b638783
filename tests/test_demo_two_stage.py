"""The demo's two-stage call: letters of intent at every state, one invited full proposal."""

from __future__ import annotations

from sqlalchemy import select

from grants.applications.enums import ApplicationStage, ApplicationStatus
from grants.applications.models import Application
from grants.calls.models import Call
from grants.demo import load_demo_data
from grants.extensions import db


def test_demo_two_stage_call_has_letters_at_every_state_and_a_full_proposal(app, database):
    load_demo_data()
    db.session.flush()
    call = db.session.scalar(select(Call).where(Call.loi_closes_at.is_not(None)))
    assert call.is_published and not call.is_loi_open() and call.is_open()
    lois = db.session.scalars(select(Application).where(Application.call_id == call.id,
                                                        Application.stage == ApplicationStage.LOI)).all()
    assert sorted(loi.status.value for loi in lois) == ["declined", "draft", "invited", "submitted"]
    invited = next(loi for loi in lois if loi.status is ApplicationStatus.INVITED)
    proposal = invited.full_proposal
    assert proposal.is_draft and proposal.stage is ApplicationStage.FULL and proposal.partners
