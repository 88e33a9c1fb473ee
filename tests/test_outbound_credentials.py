"""Secrets the application uses in clear are no passwords to hash (MOD004) nor bearer secrets it hands out
(MOD008): an SMTP login read back and given to the mail server, a meeting password served to attendees,
a payment provider's id of a payment. Projects of our own, with what is found pinned."""

from __future__ import annotations

from analyzers.findings import Severity
from tests.test_precision import HEADER, found

_MODELS = HEADER + """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password: Mapped[str] = mapped_column(String(200))


class Setting(Base):
    __tablename__ = "settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    smtp_password: Mapped[str | None] = mapped_column(String(200))


class Meeting(Base):
    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password: Mapped[str | None] = mapped_column(String(200))
"""

_HASHING = """
import bcrypt
from app.models import User

def sign_up(session, password):
    session.add(User(password=bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()))
"""

_MAILER = """
import smtplib
from app.settings import get_settings

def send(message):
    config = {
        'host': 'mail.example.org',
        'password': get_settings()['smtp_password'],
    }
    smtplib.SMTP(config['host']).login('app', config['password'])
"""

_SCHEMA = """
from marshmallow import Schema, fields

class MeetingSchema(Schema):
    id = fields.Int()
    password = fields.Str(allow_none=True)
"""


def _mod004(tmp_path, extra):
    return {f.anchor: f for f in found(tmp_path, {"app/models.py": _MODELS, "app/auth.py": _HASHING, **extra}, "MOD004")}


def test_a_password_read_back_and_handed_on_is_no_password_to_hash(tmp_path):
    before = _mod004(tmp_path / "a", {})
    assert sorted(before) == ["table:meetings.password", "table:settings.smtp_password"]
    assert before["table:settings.smtp_password"].severity == Severity.INFO
    assert _mod004(tmp_path / "b", {"app/mail.py": _MAILER, "app/schema/meeting.py": _SCHEMA}) == {}


def test_a_field_clients_only_send_is_not_handed_on(tmp_path):
    schema = _SCHEMA.replace("allow_none=True)", "allow_none=True, load_only=True)")
    checked = _MAILER.replace("get_settings()['smtp_password']", "check(get_settings()['smtp_password'])")
    assert sorted(_mod004(tmp_path, {"app/mail.py": checked, "app/schema/meeting.py": schema})) == [
        "table:meetings.password", "table:settings.smtp_password"]


_ORDERS = HEADER + """
class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paypal_token: Mapped[str | None] = mapped_column(String(200))
    access_token: Mapped[str | None] = mapped_column(String(200))
"""

_PAYMENTS = """
from app.models import Order

def used_payment(session, payment_id):
    return session.query(Order).filter(Order.paypal_token == payment_id).first()

def by_token(session, token):
    return session.query(Order).filter(Order.access_token == token).first()
"""


def test_a_payment_providers_token_is_no_bearer_secret_of_the_application(tmp_path):
    (f,) = found(tmp_path, {"app/models.py": _ORDERS, "app/payments.py": _PAYMENTS}, "MOD008")
    assert f.anchor == "table:orders.access_token"


_CREDS = HEADER + """
class StoredCreds(Base):
    __tablename__ = "stored_creds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password: Mapped[str | None] = mapped_column(String(255))
    decrypt_method: Mapped[str | None] = mapped_column(String(64))
"""

_STORE = """
from app import crypt
from app.models import StoredCreds

def creds_create(session, values):
    creds_ref = StoredCreds()
    method, password = crypt.encrypt(values["password"])
    creds_ref.password = password
    creds_ref.decrypt_method = method
    session.add(creds_ref)
"""


def test_a_credential_encrypted_before_a_write_to_an_object_named_with_a_suffix_is_no_plain_password(tmp_path):
    """`creds_ref.password = password` where `method, password = crypt.encrypt(...)`: the object is a StoredCreds
    (its name holds the model's last word, then `_ref`), and what is stored went through encryption: no MOD004
    (a login password would be hashed; a credential the service logs in with elsewhere must be reversible)."""
    assert found(tmp_path, {"app/models.py": _CREDS, "app/store.py": _STORE}, "MOD004") == []


_SIGN_UP = """
from pydantic import BaseModel
from app.models import User


class UserIn(BaseModel):
    password: str


def create_user(session, user: UserIn):
    session.add(User(password=user.password))


def login(session, user: UserIn):
    return session.query(User).filter(User.password == user.password).first()
"""


def test_a_model_built_from_an_input_named_like_it_stores_the_password_and_hands_nothing_on(tmp_path):
    """SuperAGI (a hand review's critical, missed): `User(password=user.password)` with `user` the request's input
    stores the password as given; that line is the write, not the model's password read back to hand on."""
    fs = found(tmp_path, {"app/models.py": _MODELS, "app/users.py": _SIGN_UP}, "MOD004")
    assert "table:users.password" in [f.anchor for f in fs]


def _mod010(tmp_path, files):
    return {f.anchor: f for f in found(tmp_path, files, "MOD010")}


def test_a_password_handed_to_another_service_is_a_credential_to_encrypt(tmp_path):
    """MOD010 takes what MOD004 leaves: the SMTP password read back and given to the mail server is stored as
    plain text; the meeting password a schema serves is the application's own, not another service's."""
    files = {"app/models.py": _MODELS, "app/auth.py": _HASHING, "app/mail.py": _MAILER, "app/schema/meeting.py": _SCHEMA}
    (f,) = _mod010(tmp_path, files).values()
    assert f.anchor == "table:settings.smtp_password" and f.severity == Severity.WARNING
    assert "app/mail.py:8" in f.message and "a hash does not do" in f.message


_LINKS = HEADER + """
class CalendarLink(Base):
    __tablename__ = "calendar_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refresh_token: Mapped[str] = mapped_column(String(500))
    access_token: Mapped[str | None] = mapped_column(String(500))


class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_secret: Mapped[str] = mapped_column(String(200))
"""

_OAUTH = """
from app.models import CalendarLink, Provider

def link(session, token):
    session.add(CalendarLink(refresh_token=token["refresh_token"], access_token=None))

def client(provider: Provider):
    return make_client(client_id="app", client_secret=provider.client_secret)
"""


def test_a_providers_token_and_a_client_secret_handed_on_are_credentials_to_encrypt(tmp_path):
    """A refresh token taken from the provider's answer and a client secret read back to build the OAuth client:
    plain text (warnings). Encrypted on the way, or a token the application makes itself (MOD008's): no finding."""
    found_ = _mod010(tmp_path / "a", {"app/models.py": _LINKS, "app/oauth.py": _OAUTH})
    assert sorted(found_) == ["table:calendar_links.refresh_token", "table:providers.client_secret"]
    encrypted = _OAUTH.replace('refresh_token=token["refresh_token"]', 'refresh_token=encrypt(token["refresh_token"])')
    assert sorted(_mod010(tmp_path / "b", {"app/models.py": _LINKS, "app/oauth.py": encrypted})) == ["table:providers.client_secret"]
    issued = _OAUTH.replace('token["refresh_token"]', "secrets.token_urlsafe(32)")
    assert "table:calendar_links.refresh_token" not in _mod010(tmp_path / "c", {"app/models.py": _LINKS, "app/oauth.py": issued})


def test_a_sign_in_password_a_reset_key_and_an_oauth_servers_tokens_are_no_credentials_for_another_service(tmp_path):
    """open-event-server, fastapi_best_architecture, h (MOD010 warnings on the first scan of the tryout set): a user's
    password or reset key returned in a dict is the application's own (MOD004, MOD008); a token an oauthlib
    RequestValidator saves is one the application issues."""
    users = HEADER + """
class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password: Mapped[str] = mapped_column(String(200))
    reset_password: Mapped[str | None] = mapped_column(String(200))


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refresh_token: Mapped[str] = mapped_column(String(200))
"""
    code = """
from oauthlib.oauth2 import RequestValidator
from app.models import Token, User


def profile(user: User):
    return {"password": user.password, "reset_password": user.reset_password}


class Validator(RequestValidator):
    def save_bearer_token(self, token, request):
        request.db.add(Token(refresh_token=token["refresh_token"]))
"""
    assert _mod010(tmp_path, {"app/models.py": users, "app/views.py": code}) == {}
    # ok (judged wrong): Flask-OAuthlib's provider hands its token setter the tokens it just issued
    setter = code.replace("class Validator(RequestValidator):\n    def save_bearer_token(self, token, request):",
                          "@provider.tokensetter\ndef save_token(token, request):")
    setter = setter.replace("RequestValidator", "OAuth2Provider")
    assert _mod010(tmp_path / "setter", {"app/models.py": users, "app/views.py": setter}) == {}


def test_a_password_the_code_encrypts_over_two_lines_is_no_password_to_hash(tmp_path):
    """tacker (MOD004 warning judged wrong): `fernet.encrypt(\\n auth["password"].encode())` keeps the VIM's password
    reversibly, as a credential for another system must be; no hashing anywhere is then no warning: info."""
    models = HEADER + """
class VimAuth(Base):
    __tablename__ = "vim_auths"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password: Mapped[str] = mapped_column(String(255))
"""
    driver = """
def store(fernet, auth):
    encoded = fernet.encrypt(
        auth["password"].encode("utf-8"))
    auth["password"] = encoded
"""
    (f,) = found(tmp_path, {"app/models.py": models, "app/driver.py": driver}, "MOD004")
    assert f.severity == Severity.INFO and "encrypts a value it names so (app/driver.py:4)" in f.message
    assert _mod010(tmp_path / "b", {"app/models.py": models, "app/driver.py": driver}) == {}


def test_an_outbound_word_counts_only_as_a_whole_word_of_the_names(tmp_path):
    """`ci` in `social_accounts`, `mail` in `email`: no password for another system; `ci_password` is one."""
    models = HEADER + """
class SocialAccount(Base):
    __tablename__ = "social_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    password: Mapped[str] = mapped_column(String(200))
    ci_password: Mapped[str] = mapped_column(String(200))
"""
    code = ("from app.models import SocialAccount\n\n\ndef hand_on(account: SocialAccount):\n"
            "    return {'password': account.password, 'ci_password': account.ci_password}\n")
    assert sorted(_mod010(tmp_path, {"app/models.py": models, "app/views.py": code})) == ["table:social_accounts.ci_password"]


_TOKENS = HEADER + """
class OAuth2Token(Base):
    __tablename__ = "oauth2_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)


class JWTOAuth2Token(Base):
    __tablename__ = "jwt_oauth2_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
"""

_GRANT = """
class Grant:
    def fetch(self, http, url):
        token_data = http.post(url).json()
        return self._jwt_oauth2_token_service.save_token(
            scopes=["a"],
            access_token=token_data["access_token"],
        )
"""


def test_a_token_saved_through_another_tables_service_is_that_tables(tmp_path):
    """lms (MOD010 judged wrong): `self._jwt_oauth2_token_service.save_token(access_token=...)` writes
    jwt_oauth2_token, not oauth2_token, which has a column of the same name: only the first is shown to hold it."""
    got = [f.location.path + ":" + f.anchor for f in found(
        tmp_path, {"app/models.py": _TOKENS, "app/grant.py": _GRANT}, "MOD010")]
    assert len(got) == 1 and "jwt_oauth2_token" in got[0]
    plain = _GRANT.replace("self._jwt_oauth2_token_service.save_token(", "self.save(")
    assert len(found(tmp_path / "plain", {"app/models.py": _TOKENS, "app/grant.py": plain}, "MOD010")) == 2


_BROKERS = HEADER + """
class AMQPBroker(Base):
    __tablename__ = "amqp_brokers"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    password: Mapped[str | None] = mapped_column(String(200))
"""

_CONNECT = """
from app.models import AMQPBroker

def connect_settings(session, settings):
    for broker in session.query(AMQPBroker).all():
        settings.amqp_password = broker.password
"""


def test_a_password_read_back_from_a_model_whose_name_holds_an_acronym_is_handed_on(tmp_path):
    """cloudify-manager (MOD004, judged wrong): `broker.password` of a RabbitMQBroker, read back to log in to the
    message broker, is a credential used in clear: the acronym in the class's name is a word of its own."""
    assert found(tmp_path, {"app/models.py": _BROKERS, "app/auth.py": _HASHING, "app/config.py": _CONNECT}, "MOD004") == []
    (f,) = found(tmp_path / "b", {"app/models.py": _BROKERS, "app/auth.py": _HASHING}, "MOD004")
    assert f.anchor == "table:amqp_brokers.password" and f.severity == Severity.INFO
