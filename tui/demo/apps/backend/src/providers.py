"""The provider directory: the "licensed in state" filter of Epic 11."""

from sqlalchemy import Select, select

from .models import Provider


def licensed_in(state: str) -> Select[tuple[Provider]]:
    """Providers who hold a license in `state` (two-letter code), for booking across state lines."""
    return select(Provider).where(Provider.state_licenses.contains([{"state": state}]))
