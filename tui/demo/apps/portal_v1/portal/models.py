"""Portal v1 models, Flask-SQLAlchemy style. One `organization` row: the clinic this deployment serves."""

import hmac

from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Organization(db.Model):
    """The clinic's details for the login page and the e-mail footer."""

    __tablename__ = "organization"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(255), nullable=False)
    phone = db.Column(db.String(32))
    address = db.Column(db.Text)
    logo_url = db.Column(db.String(512))


class User(db.Model):
    __tablename__ = "user"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255), index=True, nullable=False)
    password = db.Column(db.String(128), nullable=False)
    first_name = db.Column(db.String(100))
    last_name = db.Column(db.String(100))
    created_at = db.Column(db.DateTime(timezone=True), server_default=db.func.now(), nullable=False)
    last_login_at = db.Column(db.DateTime(timezone=True))

    def check_password(self, candidate: str) -> bool:
        return hmac.compare_digest(self.password, candidate)


class Patient(db.Model):
    __tablename__ = "patient"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), index=True)
    mrn = db.Column(db.String(32), unique=True, nullable=False)
    first_name = db.Column(db.String(100), nullable=False)
    last_name = db.Column(db.String(100), nullable=False)
    dob = db.Column(db.Date, nullable=False)
    sex = db.Column(db.String(1))
    is_deleted = db.Column(db.Boolean, default=False, nullable=False)

    user = db.relationship("User", backref=db.backref("patient", uselist=False))
    visits = db.relationship(
        "Visit", backref="patient", lazy="dynamic", cascade="all, delete-orphan", order_by="Visit.starts_at"
    )


class Visit(db.Model):
    __tablename__ = "visit"

    id = db.Column(db.Integer, primary_key=True)
    patient_id = db.Column(db.Integer, db.ForeignKey("patient.id"), nullable=False, index=True)
    starts_at = db.Column(db.DateTime(timezone=True), nullable=False)
    reason = db.Column(db.Text)
    status = db.Column(db.Enum("BOOKED", "CANCELLED", "DONE", "LATE_CANCEL", name="visit_status"), server_default="BOOKED", nullable=False)
    is_deleted = db.Column(db.Boolean, default=False, nullable=False)


class ProxyAssignment(db.Model):
    """A parent or caregiver who acts for a patient. v1 has no per-area permissions: full access."""

    __tablename__ = "proxy_assignment"

    id = db.Column(db.Integer, primary_key=True)
    patient_id = db.Column(db.Integer, db.ForeignKey("patient.id"), nullable=False, index=True)
    proxy_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)
    granted_at = db.Column(db.DateTime(timezone=True), server_default=db.func.now(), nullable=False)
    expires_at = db.Column(db.DateTime(timezone=True))
    revoked_at = db.Column(db.DateTime(timezone=True))


class Payment(db.Model):
    """Self-pay for visits, charged through Stripe by the patient or one of their proxies."""

    __tablename__ = "payment"

    id = db.Column(db.Integer, primary_key=True, index=True)
    patient_id = db.Column(db.Integer, db.ForeignKey("patient.id"), nullable=False, index=True)
    amount = db.Column(db.Numeric(10, 2), nullable=False)
    currency = db.Column(db.String(3), server_default="usd", nullable=False)
    stripe_charge_id = db.Column(db.String(255), unique=True)
    paid_at = db.Column(db.DateTime(timezone=True), server_default=db.func.now(), nullable=False)
    refunded_at = db.Column(db.DateTime(timezone=True))


class ConsentDocument(db.Model):
    """The portal's terms of use and privacy notice, edited from the admin page."""

    __tablename__ = "consent_document"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(255), nullable=False)
    body = db.Column(db.Text, nullable=False)
    updated_at = db.Column(db.DateTime(timezone=True), server_default=db.func.now(), onupdate=db.func.now(), nullable=False)


class AuditLog(db.Model):
    """One row per request that reads or changes patient data (written by an after_request hook)."""

    __tablename__ = "audit_log"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), index=True)
    method = db.Column(db.String(8), nullable=False)
    path = db.Column(db.String(512), nullable=False)
    ip_address = db.Column(db.String(45))
    created_at = db.Column(db.DateTime(timezone=True), server_default=db.func.now(), nullable=False)


class Refund(db.Model):
    """Money given back on a payment, and the portal user who asked for it."""

    __tablename__ = "refund"

    id = db.Column(db.Integer, primary_key=True)
    payment_id = db.Column(db.SmallInteger, db.ForeignKey("payment.id", ondelete="RESTRICT"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    amount = db.Column(db.Numeric(scale=2), nullable=False)
    refunded_at = db.Column(db.DateTime(timezone=True), server_default=db.func.now(), nullable=False)
