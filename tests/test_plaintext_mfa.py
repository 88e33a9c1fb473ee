"""MOD005: a second factor's seed stored as plain text. A warning where the schema holds health data, info elsewhere
(a threat-model call, said so); a secret key of another kind (a PGP key) is no MFA secret. Our own fixtures."""

from __future__ import annotations

from analyzers.findings import Severity
from analyzers.rules.examples_common import HEADER
from tests.test_precision import found

_USERS = HEADER + '''
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    {column}: Mapped[str | None] = mapped_column(String(64))
'''
_PATIENTS = '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
'''


def test_a_totp_seed_outside_health_data_is_info_and_says_it_is_a_threat_model_call(tmp_path):
    for column in ("totp_secret", "email_otp_secret", "totp_secret_base32"):
        (f,) = found(tmp_path, {"models.py": _USERS.format(column=column)}, "MOD005")
        assert (f.severity, f.location.start_line, f.anchor) == (Severity.INFO, 16, f"table:users.{column}")
        assert f.message.endswith("whether the seeds need encryption at rest is the application's threat-model call")


def test_a_totp_seed_beside_patients_is_a_warning(tmp_path):
    (f,) = found(tmp_path, {"models.py": _USERS.format(column="mfa_secret") + _PATIENTS}, "MOD005")
    assert f.severity == Severity.WARNING
    assert f.message == ("users.mfa_secret is a plain String: the MFA secret sits readable in the table unless the "
                         "application encrypts it before writing (check); the schema holds patients, whose accounts a "
                         "minted second factor opens")


def test_a_secret_key_of_another_kind_is_no_mfa_secret(tmp_path):
    for column in ("pgp_secret_key", "secret_key", "api_secret"):
        assert found(tmp_path, {"models.py": _USERS.format(column=column)}, "MOD005") == [], column
