"""Admin pages: users, roles, registrations and organisations (with their documents)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice
from sqlalchemy import func, or_, select

from grants.accounts import permissions, services
from grants.accounts.blueprint import bp
from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role, UserStatus
from grants.accounts.forms import (
    ActionForm,
    NewUserForm,
    OrganisationDocumentForm,
    OrganisationForm,
    ReasonForm,
    UserForm,
)
from grants.accounts.models import Organisation, OrganisationDocument, User, UserRole
from grants.attachments.views import serve_stored_file
from grants.audit.services import record_event
from grants.core.errors import DomainError
from grants.core.web import enum_arg, keeps_input_on_csrf_error, load_or_404, require, role_required
from grants.extensions import db


def _me() -> User:
    return current_user._get_current_object()


def _all_organisation_choices() -> list[tuple[int, str]]:
    return [SelectChoice(org.id, org.name + ("" if org.is_approved else f" ({org.status.value})"))
            for org in db.session.scalars(select(Organisation).order_by(Organisation.name))]


# --- users ------------------------------------------------------------------------------

@bp.route("/admin/users")
@role_required(permissions.can_manage_users)
def users():
    query = select(User).order_by(User.full_name)
    status, role = enum_arg("status", UserStatus), enum_arg("role", Role)
    search = request.args.get("q", "").strip()
    if status:
        query = query.where(User.status == status)
    if role:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    if search:
        pattern = f"%{search.lower()}%"
        query = query.join(Organisation).where(or_(func.lower(User.full_name).like(pattern),
                                                   User.email.like(pattern),
                                                   func.lower(Organisation.name).like(pattern)))
    return render_template("accounts/admin/users.html", users=db.session.scalars(query).unique().all(),
                           statuses=list(UserStatus), roles=list(Role), status=status.value if status else "",
                           role=role.value if role else "", search=search)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@role_required(permissions.can_manage_users)
@keeps_input_on_csrf_error
def new_user():
    form = NewUserForm()
    form.organisation_id.choices = _all_organisation_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                email=form.email.data, full_name=form.full_name.data, password=form.password.data,
                organisation=load_or_404(Organisation, form.organisation_id.data),
                roles={Role(value) for value in form.roles.data}, created_by=_me(),
            )
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            return render_template("accounts/admin/user_new.html", form=form), 400
        db.session.commit()
        flash(f"{user.full_name} can now log in.", "success")
        return redirect(url_for("accounts.user_detail", user_id=user.id))
    return render_template("accounts/admin/user_new.html", form=form), 400 if form.errors else 200


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@role_required(permissions.can_manage_users)
@keeps_input_on_csrf_error
def user_detail(user_id: int):
    user = load_or_404(User, user_id)
    form = UserForm(obj=user if request.method == "GET" else None)
    form.organisation_id.choices = _all_organisation_choices()
    if request.method == "GET":
        form.roles.data = sorted(role.value for role in user.roles)
    if form.validate_on_submit():
        try:
            if user.full_name != form.full_name.data.strip():
                record_event("user.renamed", target=user, details={"from": user.full_name, "to": form.full_name.data})
                user.full_name = form.full_name.data.strip()
            services.move_user(user, load_or_404(Organisation, form.organisation_id.data), changed_by=_me())
            services.set_roles(user, {Role(value) for value in form.roles.data}, changed_by=_me())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            return render_template("accounts/admin/user_detail.html", user=user, form=form,
                                   action_form=ActionForm()), 400
        db.session.commit()
        flash("Saved.", "success")
        return redirect(url_for("accounts.user_detail", user_id=user.id))
    return render_template("accounts/admin/user_detail.html", user=user, form=form, action_form=ActionForm()), (
        400 if form.errors else 200)


def _user_action(user_id: int, action, done_message: str):
    user = load_or_404(User, user_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            action(user)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(done_message.format(name=user.full_name), "success")
    return redirect(url_for("accounts.user_detail", user_id=user.id))


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["POST"])
@role_required(permissions.can_manage_users)
def deactivate_user(user_id: int):
    return _user_action(user_id, lambda user: services.deactivate_user(user, deactivated_by=_me()),
                        "{name} is deactivated and logged out everywhere.")


@bp.route("/admin/users/<int:user_id>/reactivate", methods=["POST"])
@role_required(permissions.can_manage_users)
def reactivate_user(user_id: int):
    return _user_action(user_id, lambda user: services.reactivate_user(user, reactivated_by=_me()),
                        "{name} can log in again.")


# --- registrations ----------------------------------------------------------------------

@bp.route("/admin/registrations")
@role_required(permissions.can_manage_users)
def pending_registrations():
    pending = db.session.scalars(
        select(User).where(User.status == UserStatus.PENDING).order_by(User.created_at)
    ).all()
    return render_template("accounts/admin/registrations.html", pending=pending, action_form=ActionForm(),
                           reason_form=ReasonForm())


@bp.route("/admin/registrations/<int:user_id>/approve", methods=["POST"])
@role_required(permissions.can_manage_users)
def approve_registration(user_id: int):
    user = load_or_404(User, user_id)
    if ActionForm().validate_on_submit():
        try:
            services.approve_registration(user, approved_by=_me())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(f"{user.full_name} ({user.organisation.name}) is approved and was e-mailed.", "success")
    return redirect(url_for("accounts.pending_registrations"))


@bp.route("/admin/registrations/<int:user_id>/reject", methods=["POST"])
@role_required(permissions.can_manage_users)
def reject_registration(user_id: int):
    user = load_or_404(User, user_id)
    _act_with_reason(lambda reason: services.reject_registration(user, rejected_by=_me(), reason=reason),
                     done=f"{user.full_name}'s registration is rejected.",
                     missing="Give a reason for the rejection; the applicant will see it.")
    return redirect(url_for("accounts.pending_registrations"))


def _act_with_reason(act, *, done: str, missing: str) -> None:
    """Run ``act(reason)`` with the posted reason and commit, flashing ``done``; flash the
    refusal (or ``missing`` without a reason) and change nothing otherwise."""
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(missing, "danger")
        return
    try:
        act(form.reason.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(done, "success")


# --- organisations ----------------------------------------------------------------------

def _organisation_to_edit(organisation_id: int) -> Organisation:
    """The organisation, if this user may change it: 404 if it does not exist or they may not
    even see it, 403 if they see it but may not change it."""
    organisation = load_or_404(Organisation, organisation_id)
    require(permissions.can_edit_organisation(current_user, organisation), target=organisation,
            hide=not permissions.can_view_organisation(current_user, organisation))
    return organisation


@bp.route("/organisations")
@role_required(permissions.can_list_organisations)
def organisations():
    query = select(Organisation).order_by(Organisation.name)
    kind, status = enum_arg("kind", OrganisationKind), enum_arg("status", OrganisationStatus)
    search = request.args.get("q", "").strip()
    if kind:
        query = query.where(Organisation.kind == kind)
    if status:
        query = query.where(Organisation.status == status)
    if search:
        query = query.where(func.lower(Organisation.name).like(f"%{search.lower()}%"))
    member_counts = dict(db.session.execute(
        select(User.organisation_id, func.count(User.id)).group_by(User.organisation_id)).all())
    return render_template("accounts/admin/organisations.html", organisations=db.session.scalars(query).all(),
                           member_counts=member_counts, kinds=list(OrganisationKind),
                           statuses=list(OrganisationStatus), kind=kind.value if kind else "",
                           status=status.value if status else "", search=search)


def _organisation_fields(form: OrganisationForm) -> dict:
    return dict(name=" ".join(form.name.data.split()), kind=OrganisationKind(form.kind.data),
                city=form.city.data or "", region=form.region.data or "",
                country=(form.country.data or "US").upper(), ein=form.ein.data or "",
                uei=(form.uei.data or "").upper(), website=form.website.data or "")


@bp.route("/organisations/new", methods=["GET", "POST"])
@role_required(permissions.is_admin)
@keeps_input_on_csrf_error
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = services.propose_organisation(**_organisation_fields(form))
            services.approve_organisation(organisation, approved_by=_me())
        except DomainError as exc:
            db.session.rollback()
            form.name.errors.append(exc.message)
            return render_template("accounts/admin/organisation_form.html", form=form, organisation=None), 400
        db.session.commit()
        flash(f"{organisation.name} is registered.", "success")
        return redirect(url_for("accounts.organisation_detail", organisation_id=organisation.id))
    return render_template("accounts/admin/organisation_form.html", form=form, organisation=None), (
        400 if form.errors else 200)


@bp.route("/organisations/<int:organisation_id>")
@login_required
def organisation_detail(organisation_id: int):
    organisation = load_or_404(Organisation, organisation_id)
    # Another organisation's page is not even acknowledged to exist.
    require(permissions.can_view_organisation(current_user, organisation), target=organisation, hide=True)
    return render_template("accounts/organisation.html", organisation=organisation,
                           document_form=OrganisationDocumentForm(), action_form=ActionForm(),
                           reason_form=ReasonForm(formdata=None),
                           can_edit=permissions.can_edit_organisation(current_user, organisation),
                           can_add_document=permissions.can_add_organisation_document(current_user, organisation))


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def edit_organisation(organisation_id: int):
    organisation = _organisation_to_edit(organisation_id)
    form = OrganisationForm(obj=organisation if request.method == "GET" else None)
    if request.method == "GET":
        form.kind.data = organisation.kind.value
    if form.validate_on_submit():
        fields = _organisation_fields(form)
        clash = db.session.scalar(select(Organisation).where(
            func.lower(Organisation.name) == fields["name"].lower(), Organisation.id != organisation.id))
        if clash is not None:
            form.name.errors.append(f"“{fields['name']}” is already registered.")
            return render_template("accounts/admin/organisation_form.html", form=form,
                                   organisation=organisation), 400
        services.update_organisation(organisation, changed_by=_me(), **fields)
        db.session.commit()
        flash("Saved.", "success")
        return redirect(url_for("accounts.organisation_detail", organisation_id=organisation.id))
    return render_template("accounts/admin/organisation_form.html", form=form, organisation=organisation), (
        400 if form.errors else 200)


@bp.route("/organisations/<int:organisation_id>/approve", methods=["POST"])
@login_required
def approve_organisation(organisation_id: int):
    organisation = _organisation_to_edit(organisation_id)
    if ActionForm().validate_on_submit():
        try:
            services.approve_organisation(organisation, approved_by=_me())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(f"{organisation.name} is approved.", "success")
    return redirect(url_for("accounts.organisation_detail", organisation_id=organisation.id))


@bp.route("/organisations/<int:organisation_id>/suspend", methods=["POST"])
@login_required
def suspend_organisation(organisation_id: int):
    organisation = _organisation_to_edit(organisation_id)
    _act_with_reason(lambda reason: services.suspend_organisation(organisation, suspended_by=_me(), reason=reason),
                     done=f"{organisation.name} is suspended; its members are logged out.",
                     missing="Give a reason for the suspension.")
    return redirect(url_for("accounts.organisation_detail", organisation_id=organisation.id))


@bp.route("/organisations/<int:organisation_id>/documents", methods=["POST"])
@login_required
def add_organisation_document(organisation_id: int):
    organisation = load_or_404(Organisation, organisation_id)
    require(permissions.can_add_organisation_document(current_user, organisation), target=organisation,
            hide=not permissions.can_view_organisation(current_user, organisation))
    form = OrganisationDocumentForm()
    if form.validate_on_submit():
        try:
            services.add_organisation_document(organisation, title=form.title.data, stream=form.file.data.stream,
                                               filename=form.file.data.filename, uploaded_by=_me())
        except DomainError as exc:
            db.session.rollback()
            form.file.errors.append(exc.message)
        else:
            db.session.commit()
            flash("The document is uploaded.", "success")
            return redirect(url_for("accounts.organisation_detail", organisation_id=organisation.id))
    return render_template("accounts/organisation.html", organisation=organisation, document_form=form,
                           action_form=ActionForm(), reason_form=ReasonForm(formdata=None),
                           can_edit=permissions.can_edit_organisation(current_user, organisation),
                           can_add_document=True), 400


@bp.route("/organisations/<int:organisation_id>/documents/<int:document_id>")
@login_required
def download_organisation_document(organisation_id: int, document_id: int):
    organisation = load_or_404(Organisation, organisation_id)
    require(permissions.can_download_organisation_document(current_user, organisation), target=organisation,
            hide=True)
    document = load_or_404(OrganisationDocument, document_id)
    if document.organisation_id != organisation.id:
        return require(False, target=document, hide=True)
    record_event("attachment.downloaded", target=document.stored_file,
                 details={"organisation_id": organisation.id, "document_id": document.id})
    db.session.commit()
    return serve_stored_file(document.stored_file)
