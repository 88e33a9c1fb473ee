"""The JSON API the v1 iOS app calls. Sessions are Flask's signed cookies."""

from flask import Blueprint, abort, g, jsonify, request, session
from sqlalchemy.exc import IntegrityError

from .models import AuditLog, Patient, ProxyAssignment, User, Visit, db

bp = Blueprint("portal", __name__, url_prefix="/api/v1")


@bp.before_request
def load_user() -> None:
    g.user = db.session.get(User, session["user_id"]) if "user_id" in session else None


@bp.after_request
def audit(response):
    if g.get("user") is not None and request.endpoint != "portal.login":
        db.session.add(AuditLog(user_id=g.user.id, method=request.method, path=request.path, ip_address=request.remote_addr))
        db.session.commit()
    return response


@bp.post("/login")
def login():
    user = User.query.filter_by(email=request.json["email"].strip().lower()).first()
    if user is None or not user.check_password(request.json["password"]):
        abort(401)
    session["user_id"] = user.id
    return jsonify(id=user.id)


def _patient_for(patient_id: int) -> Patient:
    """The user's own record, or one they are a current proxy for."""
    patient = Patient.query.filter_by(id=patient_id, is_deleted=False).first_or_404()
    if patient.user_id == g.user.id:
        return patient
    proxy = ProxyAssignment.query.filter(
        ProxyAssignment.patient_id == patient.id,
        ProxyAssignment.proxy_id == g.user.id,
        ProxyAssignment.revoked_at.is_(None),
        db.or_(ProxyAssignment.expires_at.is_(None), ProxyAssignment.expires_at > db.func.now()),
    ).first()
    if proxy is None:
        abort(403)
    return patient


@bp.get("/patients/<int:patient_id>/visits")
def visits(patient_id: int):
    patient = _patient_for(patient_id)
    upcoming = patient.visits.filter(Visit.status == "BOOKED", Visit.is_deleted.is_(False))
    return jsonify([{"id": v.id, "starts_at": v.starts_at.isoformat(), "reason": v.reason} for v in upcoming])


@bp.post("/patients/<int:patient_id>/visits/<int:visit_id>/cancel")
def cancel_visit(patient_id: int, visit_id: int):
    visit = _patient_for(patient_id).visits.filter_by(id=visit_id).first_or_404()
    visit.status = "CANCELLED"
    db.session.commit()
    return jsonify(id=visit.id, status=visit.status)


@bp.get("/front-desk/patients")
def front_desk_patients():
    """Every patient with the e-mail of the account that holds the record, for the clinic's front desk."""
    if g.user is None:
        abort(401)
    patients = Patient.query.filter_by(is_deleted=False).order_by(Patient.last_name).all()
    return jsonify([{"id": p.id, "name": f"{p.first_name} {p.last_name}", "account": p.user.email if p.user else None}
                    for p in patients])


@bp.get("/front-desk/patients.csv")
def front_desk_export():
    """The same list as CSV: the accounts come with the patients' query (joinedload), not one query per row."""
    if g.user is None:
        abort(401)
    patients = Patient.query.options(db.joinedload(Patient.user)).filter_by(is_deleted=False).order_by(Patient.last_name).all()
    lines = [f"{p.id},{p.last_name},{p.user.email if p.user else ''}" for p in patients]
    return "\n".join(lines), 200, {"Content-Type": "text/csv"}


@bp.post("/patients/<int:patient_id>/visits/queued")
def book_queued_visits(patient_id: int):
    """Books the visits the v1 app queued while offline, one by one; one the database refuses is skipped."""
    patient = _patient_for(patient_id)
    booked = []
    for item in request.json["visits"]:
        try:
            db.session.add(Visit(patient_id=patient.id, starts_at=item.get("starts_at"), reason=item.get("reason")))
            db.session.commit()
            booked.append(item.get("starts_at"))
        except IntegrityError:
            continue
    return jsonify(booked=booked)


@bp.post("/patients/<int:patient_id>/proxies")
def add_proxies(patient_id: int):
    """Adds the proxies the patient named; a user id that does not exist is skipped (its savepoint rolls back)."""
    patient = _patient_for(patient_id)
    added = []
    for proxy_id in request.json["proxy_ids"]:
        try:
            with db.session.begin_nested():
                db.session.add(ProxyAssignment(patient_id=patient.id, proxy_id=proxy_id))
            added.append(proxy_id)
        except IntegrityError:
            continue
    db.session.commit()
    return jsonify(added=added)
