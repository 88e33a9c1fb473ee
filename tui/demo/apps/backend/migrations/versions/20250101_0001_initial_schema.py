"""initial schema: identity, organizations, profiles, care teams, audit, consent, sessions

Revision ID: 0001
Revises:
Create Date: 2025-01-01 09:12:44.318201+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

subscription_status = sa.Enum("TRIALING", "ACTIVE", "PAST_DUE", "CANCELED", "INCOMPLETE", name="subscription_status")
membership_role = sa.Enum("PROVIDER", "STAFF", "ADMIN", name="membership_role")
enrollment_status = sa.Enum("ACTIVE", "INACTIVE", "DISCHARGED", name="enrollment_status")
legal_sex = sa.Enum("FEMALE", "MALE", "OTHER", "UNKNOWN", name="legal_sex")
proxy_relationship = sa.Enum("PARENT", "LEGAL_GUARDIAN", "SPOUSE", "CAREGIVER", "OTHER", name="proxy_relationship")
care_team_role = sa.Enum("PRIMARY", "SPECIALIST", "CONSULTANT", name="care_team_role")
audit_action = sa.Enum("READ", "CREATE", "UPDATE", "DELETE", name="audit_action")
consent_document_type = sa.Enum("TOS", "HIPAA", "PRIVACY", name="consent_document_type")
device_platform = sa.Enum("IOS", "ANDROID", "WEB", name="device_platform")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("mfa_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("mfa_secret", sa.String(64)),
        sa.Column("is_super_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
    )

    op.create_table(
        "organizations",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False, unique=True),
        sa.Column("stripe_customer_id", sa.String(255), unique=True),
        sa.Column("subscription_status", subscription_status, server_default="INCOMPLETE", nullable=False),
        sa.Column("settings", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("timezone", sa.String(64)),
        sa.Column("member_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("patient_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
        sa.CheckConstraint("member_count >= 0 AND patient_count >= 0", name="ck_organizations_counts_non_negative"),
    )
    op.create_index("ix_organizations_settings", "organizations", ["settings"], postgresql_using="gin")

    op.create_table(
        "organization_memberships",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column(
            "organization_id",
            sa.UUID(),
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("role", membership_role, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "organization_id"),
    )

    op.create_table(
        "providers",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, unique=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column("npi_number", sa.String(10), nullable=False),
        sa.Column("dea_number", sa.String(9)),
        sa.Column("license_number", sa.String(64)),
        sa.Column("license_state", sa.String(2)),
        sa.Column("specialty", sa.String(128)),
        sa.Column("state_licenses", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
    )

    op.create_table(
        "staff",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, unique=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column("employee_id", sa.String(64)),
        sa.Column("job_title", sa.String(128)),
        sa.Column("department", sa.String(128)),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
        sa.UniqueConstraint("organization_id", "employee_id"),
    )

    op.create_table(
        "patients",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL"), unique=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column("mrn", sa.String(32), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("dob", sa.Date(), nullable=False),
        sa.Column("legal_sex", legal_sex, nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("stripe_customer_id", sa.String(255), unique=True),
        sa.Column("subscription_status", postgresql.ENUM(name="subscription_status", create_type=False)),
        sa.Column("billing_manager_id", sa.UUID(), sa.ForeignKey("providers.id", ondelete="SET NULL"), index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
        sa.UniqueConstraint("organization_id", "mrn"),
    )

    op.create_table(
        "proxies",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, unique=True),
        sa.Column("relationship_type", proxy_relationship, nullable=False),
        sa.Column("relationship_note", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
        sa.CheckConstraint(
            "relationship_type <> 'OTHER' OR relationship_note IS NOT NULL", name="ck_proxies_other_needs_note"
        ),
    )

    op.create_table(
        "organization_patients",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column(
            "organization_id",
            sa.UUID(),
            sa.ForeignKey("organizations.id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "patient_id", sa.UUID(), sa.ForeignKey("patients.id", ondelete="RESTRICT"), nullable=False, index=True
        ),
        sa.Column("status", enrollment_status, server_default="ACTIVE", nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("discharged_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
        sa.UniqueConstraint("organization_id", "patient_id"),
    )

    op.create_table(
        "care_team_assignments",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("organization_id", sa.UUID(), sa.ForeignKey("organizations.id"), nullable=False, index=True),
        sa.Column(
            "patient_id", sa.UUID(), sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column(
            "provider_id", sa.UUID(), sa.ForeignKey("providers.id", ondelete="RESTRICT"), nullable=False, index=True
        ),
        sa.Column("role", care_team_role, nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
        sa.UniqueConstraint("patient_id", "provider_id"),
    )

    op.create_table(
        "patient_proxy_assignments",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column(
            "patient_id", sa.UUID(), sa.ForeignKey("patients.id", ondelete="RESTRICT"), nullable=False, index=True
        ),
        sa.Column("proxy_id", sa.UUID(), sa.ForeignKey("proxies.id", ondelete="RESTRICT"), nullable=False, index=True),
        sa.Column("granted_by_user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL"), index=True),
        sa.Column("can_view_profile", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("can_view_appointments", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("can_schedule_appointments", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("can_view_clinical_notes", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("can_view_billing", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("can_message_providers", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), index=True),
        sa.CheckConstraint(
            "expires_at IS NULL OR expires_at > granted_at", name="ck_patient_proxy_assignments_expiry_after_grant"
        ),
        sa.UniqueConstraint("patient_id", "proxy_id"),
    )

    op.create_table(
        "audit_logs",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("actor_user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("impersonator_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="SET NULL"), index=True),
        sa.Column("action", audit_action, nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.UUID()),
        sa.Column("ip_address", sa.String(45)),
        sa.Column("user_agent", sa.String(512)),
        sa.Column("request_id", sa.String(64)),
        sa.Column("changes", postgresql.JSONB()),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_audit_logs_resource", "audit_logs", ["resource_type", "resource_id"])
    op.create_index("ix_audit_logs_actor_user_id_occurred_at", "audit_logs", ["actor_user_id", "occurred_at"])

    op.create_table(
        "consent_documents",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("document_type", consent_document_type, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("document_type", "version"),
    )

    op.create_table(
        "user_consents",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True),
        sa.Column(
            "consent_document_id",
            sa.UUID(),
            sa.ForeignKey("consent_documents.id", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        ),
        sa.Column("signed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("ip_address", postgresql.INET()),
        sa.Column("user_agent", sa.String(512)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "consent_document_id"),
    )

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
        sa.Column("ip_address", postgresql.INET()),
        sa.Column("user_agent", sa.String(512)),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_seen_at", sa.DateTime(timezone=False)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "user_devices",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("user_id", sa.UUID(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("fcm_token", sa.String(512), nullable=False, unique=True),
        sa.Column("platform", device_platform, nullable=False),
        sa.Column("device_name", sa.String(128)),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("last_registered_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "user_devices", "user_sessions", "user_consents", "consent_documents", "audit_logs",
        "patient_proxy_assignments", "care_team_assignments", "organization_patients", "proxies", "patients",
        "staff", "providers", "organization_memberships", "organizations", "users",
    ):
        op.drop_table(table)
    for enum_type in (
        device_platform, consent_document_type, audit_action, care_team_role, proxy_relationship, legal_sex,
        enrollment_status, membership_role, subscription_status,
    ):
        enum_type.drop(op.get_bind(), checkfirst=True)
