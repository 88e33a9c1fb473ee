"""Flask-Login 0.6: its user mixins hold methods and properties, no columns."""
from flask_login.mixins import AnonymousUserMixin, UserMixin
