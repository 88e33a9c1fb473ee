"""SQLAlchemy-Utils 0.43: its Timestamp mixin."""
from sqlalchemy_utils.models import Timestamp
