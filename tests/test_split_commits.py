"""CFG015: one operation committed in two parts, the second using what the first made. Each case a small repository
of our own, with the exact finding (or its absence) pinned."""

from __future__ import annotations

from analyzers.findings import Severity, identity_key
from tests.test_side_effects import found

_SIGN_UP = '''
from app.models import User, ProfileEntry

def register(db, name, entries):
    user = User(name=name)
    db.session.add(user)
    db.session.commit()
    for field_id, value in entries.items():
        entry = ProfileEntry(field_id=field_id, value=value, user_id=user.id)
        db.session.add(entry)
    db.session.commit()
    return user
'''


def test_an_id_read_after_the_first_commit_and_written_in_a_second_is_a_warning_citing_all_four_lines(tmp_path):
    (f,) = found(tmp_path, {"app/auth.py": _SIGN_UP}, "CFG015")
    assert (f.severity, f.location.path, f.location.start_line, f.item_id) == (Severity.WARNING, "app/auth.py", 10, "1.5")
    assert f.anchor == "split-commit:register"
    assert f.message.startswith("register writes to the session (line 6) and commits (line 7), then writes again with "
                                "`user.id` from that first part (line 10) and commits a second time (line 11)")
    assert "flush where the id is needed" in f.message
    assert [r.location.start_line for r in f.related] == [6, 7, 11]


def test_a_helper_that_commits_then_the_callers_write_with_its_result_is_a_warning(tmp_path):
    files = {
        "app/services/roles.py": '''
from app.models import Role

class Roles:
    def create(self, session, name):
        role = Role(name=name)
        session.add(role)
        try:
            session.commit()
        except Exception:
            session.rollback()
            raise
        return role

    def grant(self, session, member, name):
        role = self.create(session, name)
        member.roles.append(role)
        session.commit()
''',
        "app/services/tokens.py": '''
from app.models import Token
from app.services.users import make_user

async def invite(db, email):
    user = await make_user(db, email)
    db.add(Token(user=user))
    await db.commit()
''',
        "app/services/users.py": '''
from app.models import User

async def make_user(db, email):
    user = User(email=email)
    db.add(user)
    await db.commit()
    return user
''',
    }
    (f,) = found(tmp_path, files, "CFG015")  # one design: helpers that commit, callers that go on
    assert (f.severity, f.location.path, f.location.start_line, f.anchor) == (
        Severity.WARNING, "app/services/roles.py", 17, "split-commit:helpers")
    assert f.message.startswith("Roles.grant calls `self.create` (line 16), which commits, then writes again with "
                                "`role` from that first part (line 17) and commits a second time (line 18)")
    assert "1 more function(s) do the same" in f.message and "leave the commit to their callers" in f.message
    assert [(r.location.path, r.location.start_line) for r in f.related] == [
        ("app/services/tokens.py", 7), ("app/services/roles.py", 16), ("app/services/roles.py", 18)]
    assert "invite: calls `make_user`, which commits, then writes with `user`" in f.related[0].note
    assert sorted(f.covers) == sorted([identity_key("CFG015", "split-commit:Roles.grant"),
                                       identity_key("CFG015", "split-commit:invite")])


def test_one_caller_after_a_helper_that_commits_is_its_own_finding(tmp_path):
    files = {"app/users.py": '''
from app.models import Token, User

async def make_user(db, email):
    user = User(email=email)
    db.add(user)
    await db.commit()
    return user

async def invite(db, email):
    user = await make_user(db, email)
    db.add(Token(user_id=user.id))
    await db.commit()
'''}
    (f,) = found(tmp_path, files, "CFG015")
    assert (f.location.start_line, f.anchor) == (12, "split-commit:invite")
    assert f.message.startswith("invite calls `make_user` (line 11), which commits, then writes again with `user.id`")
    assert [r.location.start_line for r in f.related] == [11, 13]


def test_flush_batches_status_updates_and_unresolved_or_conditional_helpers_are_not_reported(tmp_path):
    files = {
        "app/teams.py": '''
from app.models import Membership
from app.audit import record
from elsewhere import save

def flushed(session, team, user):
    session.add(team)
    session.flush()
    session.add(Membership(team_id=team.id, user_id=user.id))
    session.commit()

def per_batch(session, chunks):
    for chunk in chunks:
        for team in chunk:
            session.add(team)
        session.commit()
        session.add(Membership(team_id=team.id))
        session.commit()

def status(session, job):
    session.add(job)
    session.commit()
    job.state = "done"
    session.commit()

def unresolved(session, user):
    team = save(session, user)
    session.add(Membership(team_id=team.id))
    session.commit()

def conditional(session, user):
    entry = record(session, user, commit=False)
    session.add(Membership(entry=entry))
    session.commit()

def retried(session, team):
    session.add(team)
    try:
        session.commit()
    except Exception:
        session.rollback()
        session.add(Membership(team_id=team.id))
        session.commit()
''',
        "app/audit.py": '''
def record(session, user, commit=True):
    entry = Entry(user=user)
    session.add(entry)
    if commit:
        session.commit()
    return entry
''',
        "tests/test_teams.py": _SIGN_UP,
    }
    assert found(tmp_path, files, "CFG015") == []


def test_a_test_function_beside_the_code_and_a_helper_that_commits_for_a_task_are_not_reported(tmp_path):
    """Tests named `*_test.py` beside the module they test build rows on a database thrown away; a helper that
    commits and then enqueues a task commits on purpose (the worker reads the row), so its caller's second write
    does not split one operation."""
    files = {
        "app/models/team_test.py": '''
import unittest
from app.models import Membership, Team, User

class TeamTest(unittest.TestCase):
    def setUp(self):
        self.user = User(name="a")
        db.session.add(self.user)
        db.session.commit()
        db.session.add(Membership(user_id=self.user.id))
        db.session.commit()

    def test_members(self):
        team = Team(name="t")
        db.session.add(team)
        db.session.commit()
        db.session.add(Membership(team_id=team.id))
        db.session.commit()
''',
        "app/builds.py": '''
from app.models import Build
from app.worker import run_build

def create_build(db, environment):
    build = Build(environment=environment)
    db.add(build)
    db.commit()
    run_build.delay(build.id)
    return build

def register(db, environment):
    build = create_build(db, environment)
    environment.current_build = build
    db.commit()
''',
    }
    assert found(tmp_path, files, "CFG015") == []
    files["app/builds.py"] = files["app/builds.py"].replace("    run_build.delay(build.id)\n", "")
    (f,) = found(tmp_path, files, "CFG015")  # without the task, the helper's commit splits the operation
    assert (f.location.path, f.location.start_line, f.anchor) == ("app/builds.py", 13, "split-commit:register")


def test_a_second_part_that_runs_only_under_an_if_is_info_that_names_the_test(tmp_path):
    """The index is committed, and linked to a board only when there is one: an index alone is a state the function
    makes on purpose, so a failure between the commits leaves a valid object; info that names the `if`."""
    code = '''
from app.models import Index, Timeline

def create_index(session, board, name):
    index = Index(name=name)
    session.add(index)
    session.commit()
    if board is not None:
        timeline = Timeline(board=board, index=index)
        session.add(timeline)
        session.commit()
    return index
'''
    (f,) = found(tmp_path, {"app/indexes.py": code}, "CFG015")
    assert (f.severity, f.location.start_line, f.anchor) == (Severity.INFO, 10, "split-commit:create_index")
    assert f.message.endswith("; but the second part runs only when `board is not None` (line 8): on the other paths the "
                              "function leaves the first part alone, a state it makes on purpose, so what a failure "
                              "leaves may be a valid object on its own")
    linked_after = '''
from app.models import Index, Timeline

def create_index(session, board, name):
    index = Index(name=name)
    session.add(index)
    session.commit()
    timeline = Timeline(index=index)
    if board is None:
        timeline.hidden = True
    else:
        board.timelines.append(timeline)
    session.add(timeline)
    session.commit()
'''
    (g,) = found(tmp_path / "b", {"app/indexes.py": linked_after}, "CFG015")  # the second commit runs on every path
    assert g.severity == Severity.WARNING and "runs only when" not in g.message


_GET_OR_CREATE = '''
from app.models import Item, Kind

def get_item(db, kind_name, name):
    kind = Kind.query.filter(Kind.name == kind_name).first()
    if not kind:
        kind = Kind(name=kind_name)
        db.session.add(kind)
        db.session.commit()
    item = Item(kind_id=kind.id, name=name)
    db.session.add(item)
    db.session.commit()
    return item
'''


def test_a_lookup_row_created_only_where_none_was_found_is_not_half_an_operation(tmp_path):
    """security_monkey (CFG015 judged wrong x2): `technology = ...first(); if not technology: add, commit`, then the
    item with technology.id: a lookup row committed alone is one the next call finds and reuses."""
    assert found(tmp_path, {"app/items.py": _GET_OR_CREATE}, "CFG015") == []
    # the same commit with no lookup before it is a split operation still
    made = _GET_OR_CREATE.replace("    kind = Kind.query.filter(Kind.name == kind_name).first()\n", "    kind = None\n")
    (f,) = found(tmp_path / "made", {"app/items.py": made}, "CFG015")
    assert "`kind.id` from that first part" in f.message
    # timesketch, keylime (judged right): a row made with more than its key is part of the operation
    fuller = _GET_OR_CREATE.replace("Kind(name=kind_name)", "Kind(name=kind_name, ontology=ontology)")
    (f,) = found(tmp_path / "fuller", {"app/items.py": fuller}, "CFG015")
    assert "`kind.id` from that first part" in f.message
    # ok (judged wrong): a fixed singleton, looked up by its key and made from literals alone, is whole on its own
    singleton = _GET_OR_CREATE.replace("Kind.query.filter(Kind.name == kind_name).first()", "Kind.query.get('default')") \
        .replace("Kind(name=kind_name)", "Kind(name='default', label='Default', tags=['all'], public=False)")
    assert found(tmp_path / "singleton", {"app/items.py": singleton}, "CFG015") == []


def test_a_dependent_write_its_own_loop_commits_row_by_row_is_not_the_later_commits(tmp_path):
    """hasjob (CFG015 judged wrong): the write that uses the first part's object is committed by the per-row commit
    of the loop around it, not by the commit after the loop: commits in parts on purpose, as the rule reads them.
    Without that per-row commit, the commit after the loop is the second part's."""
    code = _SIGN_UP.replace("        db.session.add(entry)\n", "        db.session.add(entry)\n        db.session.commit()\n")
    assert found(tmp_path, {"app/auth.py": code}, "CFG015") == []
    (f,) = found(tmp_path / "once", {"app/auth.py": _SIGN_UP}, "CFG015")
    assert "commits a second time (line 11)" in f.message
