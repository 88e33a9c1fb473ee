"""Proof on a real PostgreSQL: the target's migrations run in a throwaway cluster, in a sandboxed
child process, and the schema they build is checked from the catalog and by reading two tenants'
rows as each role. Nothing here imports Textual or the code under review; the revision files run
only in the child (child.py), never in this process.

    plan.py      what the static facts say must be there before running (trees, extensions, imports)
    postgres.py  which PostgreSQL (machine, --postgres-bin, the embedded one) and a throwaway cluster
    sandbox.py   the child process: unprivileged user, no network, limits, clean env, a copy
    child.py     runs in the child: Alembic with the replacement env.py (replacement_env.py)
    catalog.py   catalog snapshots (for the roundtrips) and the checks at head
    isolation.py two tenants' rows, read as each role
    run.py       verify(): the four proofs, in order; offline_sql()
    result.py    what a run found, as plain values
    proofs.py    the proof kinds (VER rules) and how proofs meet the static findings
"""
