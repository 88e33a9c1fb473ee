"""Importing this package registers every table on Base.metadata (Alembic relies on it)."""

from .appointments import Appointment
from .assignments import PatientProxyAssignment
from .audit import AuditLog, AuditLogArchive
from .base import Base
from .billing import BillingTransaction, SubscriptionOverride
from .care_teams import CareTeamAssignment
from .communications import Message, MessageParticipant, MessageThread, Notification
from .consent import ConsentDocument, UserConsent
from .contacts import ContactMethod
from .devices import UserDevice
from .documents import Document
from .operations import Call, Task
from .organizations import Organization, OrganizationMembership, OrganizationPatient
from .profiles import Patient, Provider, Proxy, Staff
from .saved_searches import SavedSearch
from .sessions import UserSession
from .support import SupportMessage, SupportTicket
from .users import User

__all__ = [  # fmt: skip
    "Appointment", "AuditLog", "AuditLogArchive", "Base", "BillingTransaction", "Call", "CareTeamAssignment", "ConsentDocument",
    "ContactMethod", "Document", "Message", "MessageParticipant", "MessageThread", "Notification", "Organization",
    "OrganizationMembership", "OrganizationPatient", "Patient", "PatientProxyAssignment", "Provider", "Proxy",
    "SavedSearch", "Staff", "SubscriptionOverride", "SupportMessage", "SupportTicket", "Task", "User", "UserConsent",
    "UserDevice", "UserSession",
]
