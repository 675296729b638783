"""Documents, collaborators, invitations and partner sign-off: the pages around an
application's content. Same shape as views.py: load or 404, check, one service, commit once."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from grants.accounts.forms import ActionForm
from grants.applications import permissions, services
from grants.applications.blueprint import bp
from grants.applications.enums import CollaboratorRole
from grants.applications.forms import DocumentUploadForm, InviteForm
from grants.applications.models import Application, ApplicationDocument, Collaborator, Partner
from grants.applications.views import _me, _render_section, _version, load_application, load_part
from grants.attachments.filetypes import ALLOWED_EXTENSIONS, ALLOWED_LABEL
from grants.attachments.services import clean_filename
from grants.attachments.views import serve_stored_file
from grants.audit.services import record_event
from grants.calls.enums import DocumentScope
from grants.calls.models import CallDocument
from grants.core.errors import DomainError
from grants.core.web import keeps_input_on_csrf_error, load_or_404, require
from grants.extensions import db

# A file cannot be kept in the form the way typed text is, so the stale-edit message says so.
DOCUMENT_STALE_MESSAGE = ("Someone else changed this application after you opened this page, so your file was not "
                          "stored. Check the documents below, then upload it again.")


def _act(form, change) -> int | None:
    """Run ``change`` and commit once. On a refusal roll back, put the message on the form and
    return the refusal's status (400, 403, 409); None when it went through."""
    try:
        change()
        db.session.commit()
    except StaleDataError:
        # Someone saved between our version check and our write.
        db.session.rollback()
        form.form_errors.append(services.STALE_MESSAGE)
        return 409
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return exc.status_code
    return None


# --- documents --------------------------------------------------------------------------

@dataclass
class DocumentSlot:
    """One place a file goes: a document of the call, for one partner where the call says so."""

    document: CallDocument
    partner: Partner | None
    versions: list[ApplicationDocument]  # newest first
    form: DocumentUploadForm | None = None  # None for someone who may not upload

    @property
    def key(self) -> str:
        return f"{self.document.id}-{self.partner.id if self.partner else 0}"

    @property
    def current(self) -> ApplicationDocument | None:
        return self.versions[0] if self.versions else None

    @property
    def earlier(self) -> list[ApplicationDocument]:
        return self.versions[1:]

    @property
    def title(self) -> str:
        return f"{self.document.name}: {self.partner.organisation.name}" if self.partner else self.document.name


def _slot_form(application: Application, slot: DocumentSlot,
               form: DocumentUploadForm | None = None) -> DocumentUploadForm:
    """The upload form of one slot; its ids are the slot's own, as a page holds many of them."""
    if form is None:
        form = DocumentUploadForm(formdata=None)
        form.version.data = application.version
    form.file.id = form.file.label.field_id = f"file-{slot.key}"
    form.file.render_kw = {"accept": ",".join(ALLOWED_EXTENSIONS)}
    limit = current_app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)
    form.file.description = f"{ALLOWED_LABEL}, at most {limit} MB."
    return form


def _document_slots(application: Application, failed: DocumentUploadForm | None = None,
                    failed_slot: tuple[int, int | None] | None = None) -> list[DocumentSlot]:
    can_edit = permissions.can_edit_application(current_user, application)
    slots = []
    for document in application.call.documents:
        partners = application.partners if document.scope is DocumentScope.PER_PARTNER else [None]
        for partner in partners:
            partner_id = partner.id if partner else None
            slot = DocumentSlot(document, partner, application.document_versions(document.id, partner_id))
            if can_edit:
                slot.form = _slot_form(application, slot,
                                       failed if failed_slot == (document.id, partner_id) else None)
            slots.append(slot)
    return slots


def _render_documents(application: Application, status: int = 200, *, failed: DocumentUploadForm | None = None,
                      failed_slot: tuple[int, int | None] | None = None):
    slots = _document_slots(application, failed, failed_slot)
    # A refusal that belongs to no slot on the page (a partner that is not on this application).
    unplaced = failed if failed is not None and not any(slot.form is failed for slot in slots) else None
    return _render_section("applications/documents.html", application, status, slots=slots, unplaced=unplaced,
                           per_partner_without_partners=not application.partners and any(
                               d.scope is DocumentScope.PER_PARTNER for d in application.call.documents))


@bp.route("/applications/<int:application_id>/documents")
@login_required
def documents(application_id: int):
    application = load_application(application_id)
    return _render_documents(application)


@bp.route("/applications/<int:application_id>/documents/<int:call_document_id>", methods=["POST"])
@login_required
def upload_document(application_id: int, call_document_id: int):
    application = load_application(application_id, edit=True)
    call_document = load_or_404(CallDocument, call_document_id)
    if call_document.call_id != application.call_id:
        require(False, target=call_document, hide=True)
    form = DocumentUploadForm()
    partner_id = form.partner_id.data if call_document.scope is DocumentScope.PER_PARTNER else None
    status = 400
    if form.validate_on_submit():
        partner = db.session.get(Partner, partner_id) if partner_id else None
        upload = form.file.data
        status = _act(form, lambda: services.upload_document(
            application, editor=_me(), expected_version=_version(form), call_document=call_document,
            partner=partner, stream=upload.stream, filename=upload.filename))
        if status is None:
            filename = clean_filename(upload.filename)
            flash(_("“%(filename)s” is stored as %(document)s for %(partner)s.", filename=filename,
                    document=call_document.name, partner=partner.organisation.name) if partner
                  else _("“%(filename)s” is stored as %(document)s.", filename=filename, document=call_document.name),
                  "success")
            return redirect(url_for("applications.documents", application_id=application.id))
        if status == 409:
            form.form_errors[:] = [DOCUMENT_STALE_MESSAGE]
        # A file is never kept in a form: the next try is an upload onto the page as it is now.
        form.version.data = application.version
    return _render_documents(application, status, failed=form, failed_slot=(call_document.id, partner_id))


@bp.route("/applications/<int:application_id>/documents/file/<int:document_id>")
@login_required
def download_document(application_id: int, document_id: int):
    application = load_application(application_id)
    document = load_or_404(ApplicationDocument, document_id)
    if document.application_id != application.id:
        require(False, target=document, hide=True)
    record_event("attachment.downloaded", target=document.stored_file,
                 details={"application_id": application.id, "document_id": document.id})
    db.session.commit()
    return serve_stored_file(document.stored_file)


# --- collaborators ----------------------------------------------------------------------

@dataclass
class PartnerContact:
    partner: Partner
    invitation: Collaborator | None  # the contact's open or accepted invitation, if any


def _partner_contacts(application: Application) -> list[PartnerContact]:
    contacts = []
    for partner in application.partners:
        invitation = next((c for c in application.collaborators
                           if c.email == partner.contact_email and c.revoked_at is None), None)
        contacts.append(PartnerContact(partner, invitation))
    return contacts


@bp.route("/applications/<int:application_id>/collaborators", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def collaborators(application_id: int):
    application = load_application(application_id)
    can_manage = permissions.can_manage_collaborators(current_user, application)
    form = InviteForm()
    status = 200
    if request.method == "POST":
        require(can_manage, target=application)
        status = 400
        if form.validate_on_submit():
            role = CollaboratorRole(form.role.data)
            status = _act(form, lambda: services.invite_collaborator(
                application, email=form.email.data, role=role, invited_by=_me()))
            if status is None:
                flash(_("An invitation is on its way to %(email)s (%(role)s). The link in it works once.",
                        email=form.email.data.strip().lower(), role=role.label.lower()), "success")
                return redirect(url_for("applications.collaborators", application_id=application.id))
    return _render_section("applications/collaborators.html", application, status, form=form,
                           can_manage=can_manage, partner_contacts=_partner_contacts(application))


@bp.route("/applications/<int:application_id>/collaborators/<int:collaborator_id>/revoke", methods=["POST"])
@login_required
def revoke_collaborator(application_id: int, collaborator_id: int):
    application = load_application(application_id)
    require(permissions.can_manage_collaborators(current_user, application), target=application)
    collaborator = load_part(Collaborator, collaborator_id, application)
    if ActionForm().validate_on_submit():
        was_active = collaborator.is_active
        services.revoke_collaborator(collaborator, revoked_by=_me())
        db.session.commit()
        flash(_("%(email)s no longer has access to this application.", email=collaborator.email) if was_active
              else _("The invitation to %(email)s is withdrawn; its link no longer works.", email=collaborator.email),
              "success")
    return redirect(url_for("applications.collaborators", application_id=application.id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    """The e-mailed link's page."""
    return _invitation_page(services.find_invitation(token))


@bp.route("/my/invitations/<int:collaborator_id>", methods=["GET", "POST"])
@login_required
def open_invitation(collaborator_id: int):
    """The same page from the invitation listed on the invited person's home page: only theirs."""
    return _invitation_page(services.find_open_invitation_of(collaborator_id, user=current_user))


def _invitation_page(collaborator: Collaborator | None):
    if collaborator is None:
        # Used, withdrawn or never issued: the same answer, so a link reveals nothing.
        return render_template("applications/invitation.html", collaborator=None), 404
    form = ActionForm()
    status = 200
    try:
        services.check_invitation_acceptable(collaborator, user=current_user)
    except DomainError as exc:
        form.form_errors.append(exc.message)
        status = exc.status_code
    # Someone who may not accept (another address, or outside the lead and partners) learns
    # nothing about the application.
    show_details = status == 200
    if request.method == "POST" and status == 200 and form.validate_on_submit():
        application_id = collaborator.application_id
        status = _act(form, lambda: services.accept_collaborator_invitation(collaborator, user=_me()))
        if status is None:
            flash(_("You have joined the application."), "success")
            return redirect(url_for("applications.application_detail", application_id=application_id))
    return render_template("applications/invitation.html", collaborator=collaborator, form=form,
                           show_details=show_details), status


# --- partner sign-off -------------------------------------------------------------------

@bp.route("/applications/<int:application_id>/partners/<int:partner_id>/sign-off", methods=["GET", "POST"])
@login_required
def partner_sign_off(application_id: int, partner_id: int):
    application = load_application(application_id)
    partner = load_part(Partner, partner_id, application)
    form = ActionForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        status = _act(form, lambda: services.sign_off_partner(
            partner, user=_me(), expected_version=request.form.get("version", type=int)))
        if status is None:
            flash(_("Thank you. %(name)s's partnership and budget share are confirmed.", name=partner.organisation.name),
                  "success")
            return redirect(url_for("applications.partner_sign_off", application_id=application.id,
                                    partner_id=partner.id))
    lines = [line for line in application.budget_lines if line.partner_id == partner.id]
    return _render_section("applications/sign_off.html", application, status, form=form, partner=partner,
                           lines=lines, share_cents=application.partner_share_cents(partner),
                           can_sign_off=permissions.can_sign_off_partner(current_user, partner))
