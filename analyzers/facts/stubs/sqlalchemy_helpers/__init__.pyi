"""sqlalchemy-helpers 2.0 (fedora-infra): the package re-exports the model base of its manager module."""
from sqlalchemy_helpers.manager import Base
