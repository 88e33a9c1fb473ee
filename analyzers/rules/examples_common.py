"""Source snippets shared by rule examples: a typed declarative base and mixins."""

HEADER = '''
import uuid
from datetime import datetime
from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass

'''

# A patients table: the HIPAA rules about clinical data apply only to a schema that holds patients.
PATIENT = '''
class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
'''


def orm_delete(model: str, noun: str) -> tuple[str, str]:
    """A function that loads one `model` row by its id and deletes it through the ORM, and the route that calls it:
    the delete path of the examples of the rules on deletes (REL005, REL006)."""
    code = f'''
from sqlalchemy import select
from models import {model}

def remove_{noun}(session, {noun}_id):
    {noun} = session.scalars(select({model}).where({model}.id == {noun}_id)).one()
    session.delete({noun})
    session.commit()
'''
    route = f'''
from app.{noun}s import remove_{noun}

@router.delete("/{noun}s/{{{noun}_id}}")
def delete_{noun}({noun}_id: int, session=Depends(get_session)):
    remove_{noun}(session, {noun}_id)
'''
    return code, route
