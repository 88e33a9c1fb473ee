"""The tryout set: dbreview on real backends nobody tuned it for, findings per rule per repository.

    python bench/tryout.py [--targets DIR] [--only NAME ...] [--save FILE] [--compare FILE]
    python bench/tryout.py --checkout [--source URL] [--targets DIR] [--only NAME ...]

Each target is a public repository checked out under DIR (default $DBREVIEW_TARGETS, else
/work/targets) at the commit pinned below; none of their code is in this project. A target that is
missing or at another commit is reported and skipped. Every target is scanned in a child process
with no cache, so one target's memory never weighs on the next.

Prints, per target: files read, files unread (scan errors), ORM tables, migration tables,
revisions, findings by severity; then a rule x target matrix. `--save` writes every finding (rule,
severity, location, anchor, message) as JSON; `--compare` reads such a file and prints what moved,
finding by finding (gone, new, and reworded or of another severity), so a change to a rule shows
everything it changed, not only where one looked. `--checkout` clones the targets that are missing and
checks each out at its pinned commit; `--source` is where from, with {repo} (owner/name), {owner} and
{name} filled in (default https://github.com/{repo}.git; a local mirror works the same way).

Not a test: the targets are not in the repository and a full run takes a few minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# name -> (repository, commit, what a reader notices about its shape)
TARGETS: dict[str, tuple[str, str, str]] = {
    "lockdev-saas-starter": ("MikeLockz/lockdev-saas-starter", "89d1dfd86a17277a38ad24ef71ff1d405c6545a0",
                             "the prompt's own target: async SQLAlchemy 2.0, RLS, HIPAA"),
    "fastapi-saas-template": ("AlexTymosh/fastapi-saas-template", "4c5e8bf1a79f7d0b73aab8e1ca79f33a18174958",
                              "SQLAlchemy 2.0 typed, multi-tenant"),
    "mealie": ("mealie-recipes/mealie", "b5643a9399465d8b4ea339e7a6639df2d697741b",
               "SQLAlchemy 2.0 typed, group/household tenants, SQLite or PostgreSQL"),
    "onyx": ("onyx-dot-app/onyx", "a7d66a8b778c3f9026c4f89dae47d14a3f84816f",
             "schema-per-tenant with schema_translate_map, two Alembic trees"),
    "polar": ("polarsource/polar", "c6c3645e639ee8eeaa05aa0835cf8e39e330382f",
              "SQLAlchemy 2.0 typed, PEP 695, ClickHouse metadata beside PostgreSQL"),
    "CTFd": ("CTFd/CTFd", "91ced62d44d3ec3142a0948ee96ed19947cfc979",
             "Flask-SQLAlchemy legacy db.Column, one models module"),
    "full-stack-fastapi-template": ("fastapi/full-stack-fastapi-template",
                                    "68adb40d37425f6f8668ec7e5a054500d045e43e", "SQLModel"),
    "dispatch": ("Netflix/dispatch", "dd2837e82a0bf5565b1b4b4b91ea30b7262d4061",
                 "classic declarative, core and tenant Alembic trees, schema per organization"),
    "fides": ("ethyca/fides", "96aa40cba74e44a369d637b056f08310132b65ba",
              "398 revisions, declared_attr table names"),
    "redash": ("getredash/redash", "ca79fe988d81cdac9675b412f3dfcab107bc1fbc",
               "Flask-SQLAlchemy through a subclass of SQLAlchemy"),
    "prefect": ("PrefectHQ/prefect", "ce79dd3d6cfa2b7337265498210dbc4d25bcdc98",
                "two Alembic trees (PostgreSQL and SQLite), SQLAlchemy 2.0"),
    "lemur": ("Netflix/lemur", "3a3c2c201d42db0eed06e79297eb8dc252c39288",
              "Flask-SQLAlchemy, db re-exported through a package"),
    "keep": ("keephq/keep", "af93f550b6498089d5e93b6dd426fc2a49498464", "SQLModel, multi-tenant by tenant_id"),
    "indico": ("indico/indico", "b8f1fde8b81b199341cc84a75909cb0ed362d44e",
               "Flask-SQLAlchemy subclass, hundreds of models across packages, PostgreSQL schemas"),
    "flaskbb": ("flaskbb/flaskbb", "4b78af85e96b375fdbc4d53723cedea459c99ac4",
                "Flask-SQLAlchemy, plugin Alembic trees"),
    "CleanWithSnapshot": ("Inneren12/CleanWithSnapshot", "a7a766bc618719be73fa58851bf88b909af1ec94",
                          "FastAPI, RLS policies in Alembic, org_id tenants"),
    "keystone": ("openstack/keystone", "30ef2ffa65a3486ef882f00538e20f2253c57d4c",
                 "classic declarative_base, expand/contract Alembic branches"),
    "ckan": ("ckan/ckan", "2dbe2c18f65ec75798c3667dd412c2320ac44ab0",
             "classic mappers and __table__ = Table(...), a DataStore engine of its own, plugins"),
    "jupyterhub": ("jupyterhub/jupyterhub", "2841153db6c1c25d8b50955e2f4b39f78f3d0119",
                   "SQLite/MySQL/PostgreSQL, create_all at start beside Alembic, tables built in a loop"),
    "warehouse": ("pypi/warehouse", "6b62157124ab7865029afeeadf282bce27d601d9",
                  "PyPI: Pyramid, classic declarative on PostgreSQL, 288 revisions"),
    "zou": ("cgwire/zou", "4bf77e6da49b9d06521aaead52927daf6449a99d",
            "Flask-SQLAlchemy on PostgreSQL, 217 revisions, plugin Alembic template"),
    "privacyidea": ("privacyidea/privacyidea", "55410007d118b505d9ff300b6114c2701e9bdb3c",
                    "Flask-SQLAlchemy, MySQL/PostgreSQL/SQLite, realms as tenants"),
    "fittrackee": ("SamR1/FitTrackee", "80c19816b7a41919dea63979c299944da833b5d1",
                   "Flask-SQLAlchemy on PostgreSQL, Flask-Migrate folder with no script_location"),
    "osparc": ("ITISFoundation/osparc-simcore", "19a5f9dd4272cc9adffe5f291483d3f0e10fc017",
               "SQLAlchemy Core Table objects in a shared package, asyncpg services, 273 revisions"),
    "aleph": ("alephdata/aleph", "4cbb29a6336bad0d99099c8e5efa2a42e026691f",
              "Flask-SQLAlchemy on PostgreSQL, collection permissions instead of tenants"),
    "Mailu": ("Mailu/Mailu", "bbb1c206f9c8e438bb7f7193bdd8eea2ed09d7fd",
              "Flask-SQLAlchemy and Flask-Migrate, SQLite by default, PostgreSQL or MySQL"),
    "ihatemoney": ("spiral-project/ihatemoney", "52e5720ec78d32eab963cd7e73d4826ae3a16950",
                   "Flask-SQLAlchemy with SQLAlchemy-Continuum history tables, Flask-Migrate"),
    "PowerDNS-Admin": ("PowerDNS-Admin/PowerDNS-Admin", "742dd103e63d2e57e387e3487980c01d290e1cc2",
                       "Flask-SQLAlchemy, MySQL/PostgreSQL/SQLite, accounts as tenants, seed migrations"),
    "securedrop": ("freedomofpress/securedrop", "b80c941a3bf3355aefd098beeb1f246d4ff38933",
                   "classic declarative on SQLite, Alembic inside the application package"),
    "nyaa": ("nyaadevs/nyaa", "4fe0ff5b1aa7ec7c9bb2667d97e10ce2a318c676",
             "Flask-SQLAlchemy on MySQL/MariaDB, tables per site made by mixins with a name prefix"),
    "pgadmin4": ("pgadmin-org/pgadmin4", "bc58657d3d3ab4209cdadea6d191b632cf1572cc",
                 "Flask-SQLAlchemy configuration database on SQLite or PostgreSQL, Flask-Security mixins"),
    "fief": ("fief-dev/fief", "a77e7fb65fc54d7994740619684a87e85d1293ed",
             "async SQLAlchemy 2.0 on PostgreSQL, tenants as a column, Alembic inside the package"),
    "litestar-fullstack": ("litestar-org/litestar-fullstack", "8b637ce4232a407142ae94ec95d7eb268f8fd765",
                           "Advanced Alchemy base classes and audit columns, Litestar, PostgreSQL"),
    "bodhi": ("fedora-infra/bodhi", "2afdbd08d8294024d773b4a944bbc1711ce5a4db",
              "Fedora's update system: one models module, PostgreSQL, Pyramid, long Alembic history"),
    "funnel": ("hasgeek/funnel", "eaed75d053027044fd526789ff9721d3b48285bb",
               "Flask-SQLAlchemy through coaster's base classes and mixins, PostgreSQL, many binds"),
    "bunkerweb": ("bunkerity/bunkerweb", "2ae80bbbe46e7253fd080df807dceb9d20a60a77",
                  "one schema for SQLite, MariaDB, MySQL and PostgreSQL, Alembic trees per database"),
    "notifications-api": ("alphagov/notifications-api", "8ea236603c43fe96df83459e9b37e0a7c45769a2",
                          "GOV.UK Notify: Flask-SQLAlchemy on PostgreSQL, ~550 numbered Alembic revisions"),
    "Open-Assistant": ("LAION-AI/Open-Assistant", "f1e6ed9526f5817531f3ab85441a40b3671ddccb",
                       "SQLModel on PostgreSQL, FastAPI backend, Alembic under backend/"),
    "augur": ("chaoss/augur", "109511bf6f9699ad859b9a6f446aaf83c2754064",
              "declarative models on PostgreSQL schemas, Alembic inside the package, Celery tasks"),
    "spiff-arena": ("sartography/spiff-arena", "d7678cf75bd1bc1b6dd0d05ba54c0f0dfa730952",
                    "Flask-SQLAlchemy on MySQL, PostgreSQL or SQLite, Flask-Migrate, typed dataclass models"),
    "mwdb-core": ("CERT-Polska/mwdb-core", "88f0ea5ff2a3bff245d7e0a4f7d235cdffc0c537",
                  "Flask-SQLAlchemy on PostgreSQL, Flask-Migrate, JSONB and array columns"),
    "skyvern": ("Skyvern-AI/skyvern", "07222e7a7caae79aacd5908c30e4a4445fce5f9b",
                "browser agents: async SQLAlchemy 2.0 on PostgreSQL, organizations as tenants"),
    "timesketch": ("google/timesketch", "45b339bb87c7334effc1e0327c285b4ec19d96d9",
                   "Flask-SQLAlchemy with mixins (labels, comments, status), Alembic in the package"),
    "conda-store": ("conda-incubator/conda-store", "9177dc6692ac2fd3b17dbbb72f93d1e357eedc8f",
                    "SQLAlchemy ORM in a server package, SQLite or PostgreSQL, Alembic in _internal"),
    "bitcart": ("bitcart/bitcart", "065c842107218459e0b1f3ba3c8cfeda3e5c8edf",
                "Gino-era models moved to SQLAlchemy 2.0 async, stores as tenants, dated Alembic revisions"),
    "agenta": ("Agenta-AI/agenta", "753af3838ef61cfc3f06c05951b3599fefbc75ef",
               "async SQLAlchemy, OSS and EE trees, core and tracing databases with own Alembic trees"),
    "letta": ("letta-ai/letta", "56ba9c25552605eec89de8ed3dc6394b625c1993",
              "agent server: SQLAlchemy 2.0 mixins, organizations as tenants, PostgreSQL or SQLite"),
    "phoenix": ("Arize-ai/phoenix", "9478f954bbc6175a0eaef398d0a92c1d967c3bfe",
                "tracing server: async SQLAlchemy 2.0 on PostgreSQL or SQLite, Alembic in the package"),
    "open-event-server": ("fossasia/open-event-server", "071d1595b4af5a711875706a8fd47ee2887656fe",
                          "Flask-SQLAlchemy on PostgreSQL, ~590 Flask-Migrate revisions, soft deletes"),
    "gramps-web-api": ("gramps-project/gramps-web-api", "370d5917e6ecec546c0e53cbd02e5ace032c4c00",
                       "small Flask API: a user database in SQLAlchemy with its own Alembic tree"),
    "ironic": ("openstack/ironic", "7bc6aba7dda0b8a863d0310af6f06925d30c9563",
               "oslo.db on MySQL or PostgreSQL, Alembic, soft deletes and version columns"),
    "dstack": ("dstackai/dstack", "511c318c8a7672fb2a925041bfc2d7301a26272e",
               "GPU orchestration server: async SQLAlchemy 2.0, PostgreSQL or SQLite, Alembic, projects as tenants"),
    "fractal-server": ("fractal-analytics-platform/fractal-server", "931d0d46cdfefb3d383d768f7eebb6dc270c21a2",
                       "SQLModel on PostgreSQL, Alembic in the package, user groups"),
    "mlrun": ("mlrun/mlrun", "c43870ff8eb19f3b35e16d48b956a6fd9caed427",
              "MLOps API server: declarative models built in with-blocks and factories, MySQL or SQLite, Alembic"),
    "mage-ai": ("mage-ai/mage-ai", "5640c790a2b68fb615299a4090ca930b950f14b0",
                "data pipeline tool: SQLAlchemy ORM on PostgreSQL or SQLite, Alembic, workspaces and roles"),
    "h": ("hypothesis/h", "24395ca438e3bd4b5c301e30ab81ca1d024ee840",
          "annotation service: Pyramid and SQLAlchemy on PostgreSQL, Alembic, groups and users by authority"),
    "lms": ("hypothesis/lms", "3c66b217371f0a5e7217143ab5bdf4908ab74b16",
            "LTI app: Pyramid and SQLAlchemy 2.0 on PostgreSQL, Alembic, student and grade data per school"),
    "barbican": ("openstack/barbican", "2d1ea8606784cb7e1147e869a79f6be7e8466236",
                 "secrets service: oslo.db models with soft deletes, projects as tenants, Alembic"),
    "anitya": ("fedora-infra/anitya", "0d111184ead33eda451375e34e325bb358e4eff9",
               "release monitoring: Flask-SQLAlchemy on PostgreSQL, Alembic"),
    "reana-db": ("reanahub/reana-db", "1a8eb5a062cf7f16db11b4598d59578e7784a85b",
                 "workflow platform's database package: SQLAlchemy models, quotas per user, Alembic"),
    "simplelogin": ("simple-login/app", "dbc45fcce4e8e6b4fa615cc729ca95a67bf75266",
                    "email alias service: Flask and SQLAlchemy on PostgreSQL, Alembic, data per user"),
    "quetz": ("mamba-org/quetz", "56ab2cfc58c89111637c62f9fc54bec8c97f522e",
              "conda package server: FastAPI and SQLAlchemy on PostgreSQL or SQLite, Alembic, plugins"),
    "aiida": ("aiidateam/aiida-core", "60eef76a736ff669ca31f0d0ce67a76e350cf94d",
              "provenance store: SQLAlchemy on PostgreSQL with JSONB, Alembic, large data migrations"),
    "mergin": ("MerginMaps/server", "196a8a9d1c2629b59032fdf28a6816f1a75a3892",
               "geodata sync server: Flask-SQLAlchemy on PostgreSQL, Alembic, workspaces"),
    "datanommer": ("fedora-infra/datanommer", "2566b6bea66f2014758c7183c3b71718fefd262a",
                   "message archive: SQLAlchemy on PostgreSQL/TimescaleDB, Alembic"),
    "meltano": ("meltano/meltano", "c139d24b2ea4b711569483a93c2f321d05fd93b2",
                "data integration CLI: SQLAlchemy system database on SQLite or PostgreSQL, Alembic"),
    "neutron": ("openstack/neutron", "2131d26f73262ec89a5d3e3e0d65521df4908e65",
                "network service: oslo.db models, projects as tenants, Alembic branches"),
    "pagure": ("Pagure/pagure", "bee168305d5ccdea109a7ee31fd74f52b624ced8",
               "git forge: declarative SQLAlchemy in one model module, Alembic at the top level"),
    "tracim": ("tracim/tracim", "ba327506146cf60ab70e588668be51727d26dad4",
               "collaboration platform: Pyramid, SQLAlchemy models per application, workspaces"),
    "pycroft": ("agdsn/pycroft", "d0cc2c77baf6de8b71ff17b739c8f42ab7a9cd08",
                "ISP member management: SQLAlchemy 2.0 on PostgreSQL, finance ledger, Alembic in the model package"),
    "keylime": ("keylime/keylime", "9b1f6e6a917f86c792bac680ea7d36312d5914a5",
                "remote attestation: verifier and registrar databases, Alembic with two engines"),
    "rucio": ("rucio/rucio", "2e14c417ba068b8605fc4df18179e8f45fa133a1",
              "scientific data management: one large models module, Oracle/PostgreSQL/MySQL, VOs as tenants"),
    "nbgrader": ("jupyter/nbgrader", "207a8e544968092c93af807cce6f002552c628fa",
                 "grading tool: SQLAlchemy on SQLite, a handful of Alembic revisions"),
    "tasking-manager": ("hotosm/tasking-manager", "5a4da86619d91f7578b762b6ede7f9d1b7c30c00",
                        "mapping task manager: SQLAlchemy on PostGIS, Alembic under migrations/"),
    "digitalmarketplace-api": ("alphagov/digitalmarketplace-api", "83ac94c79fd26830ccb5a5d3214f5cf0d13a93f1",
                               "government marketplace API: Flask-SQLAlchemy, PostgreSQL JSON, Flask-Migrate"),
    "datacube-core": ("opendatacube/datacube-core", "a410345c32aedee03f6c7bcfaf7cac58f810af06",
                      "geodata index: SQLAlchemy Core and ORM, two index drivers, Alembic for postgis"),
    "freqtrade": ("freqtrade/freqtrade", "c9ae5e1e9ff25bb55dd61f5e5519f7c479291edb",
                  "trading bot: SQLAlchemy 2.0 typed, SQLite by default, hand-rolled migrations, no Alembic"),
    "diracx": ("DIRACGrid/diracx", "712f32e9695610bba2f37de375bdf2f4a67195e6",
               "grid services: async SQLAlchemy Core over several databases, MySQL first"),
    "octavia": ("openstack/octavia", "0e6ea11c2992ce2746bb0cf0fb5cb3e81d5b94ba",
                "load balancer service: oslo.db, SQLAlchemy models, Alembic"),
    "buildbot": ("buildbot/buildbot", "61f2f4118098dbbd22cf9212e2b470cea7c505ba",
                 "CI master: SQLAlchemy Core tables, Alembic, SQLite/MySQL/PostgreSQL, Twisted threads"),
    "glance": ("openstack/glance", "c76abb08e2bc82582389059dcbbc234293ce13b9",
               "image service: oslo.db, declarative models, Alembic with expand/contract branches"),
    "manila": ("openstack/manila", "d28877849f29128ecb3b1b7c63435ba2aef1811d",
               "shared filesystems: oslo.db soft-delete models, Alembic, projects as tenants"),
    "heat": ("openstack/heat", "526defd06ece8156ede431615fd3c5eb8412714d",
             "orchestration: oslo.db models, sqlalchemy-migrate history squashed into Alembic"),
    "FastAPI-boilerplate": ("igorbenav/FastAPI-boilerplate", "61d84fa0d5b550ca35561114d0173c764da8a1e1",
                            "async SQLAlchemy 2.0 dataclass models, FastCRUD, soft delete, Alembic"),
    "fastapi_best_architecture": ("fastapi-practices/fastapi_best_architecture",
                                  "2e86d79150c0abf0191dc8c189734214c4934a17",
                                  "async SQLAlchemy 2.0, MySQL or PostgreSQL, plugins with their own models"),
    "SuperAGI": ("TransformerOptimus/SuperAGI", "c3c1982e7bd6a11cfed53c5a193ea502f924b1b6",
                 "agent platform: declarative models on PostgreSQL, organisations as tenants, Alembic"),
    "placement": ("openstack/placement", "7ad9ef078b490423ac6605e805fad2b75c8f2107",
                  "resource inventories: oslo.db, Core-heavy queries, Alembic"),
    "designate": ("openstack/designate", "9f82089b2735878966322495beee604c0ffa0e30",
                  "DNS service: SQLAlchemy Core tables, hand-built SQL, Alembic"),
    "mindsdb": ("mindsdb/mindsdb", "37ccd07febc9c4a20bd5c1fcd4f677efac553dc9",
                "AI data platform: declarative models, company_id tenants, SQLite or PostgreSQL, Alembic"),
    "Hyperion": ("aeecleclair/Hyperion", "e9b5f538bcc0376abe7f6c0a64a14c2c116d7356",
                 "student association platform: SQLAlchemy 2.0 typed async, many modules, Alembic"),
    "ras-party": ("ONSdigital/ras-party", "423d2a1de129527ae67768e682a6e16c1111e228",
                  "survey respondents and businesses: declarative models on PostgreSQL, Alembic"),
    "security_monkey": ("Netflix/security_monkey", "5d22a1058b350fa7da364abc1bb8b25e1eb4c98d",
                        "cloud config monitor: Flask-SQLAlchemy db.Model, Flask-Migrate"),
    "ichnaea": ("mozilla/ichnaea", "efe73300296436f1b6a8d10db9739ffc3711ba94",
                "location service: declarative models on MySQL, sharded tables, Alembic"),
    "fmn": ("fedora-infra/fmn", "3c377f15b5c78d94d7231c54f66c2d51cba9e80c",
            "notification rules: async SQLAlchemy 2.0 with FastAPI, Alembic"),
    "funding-assessment-store": ("communitiesuk/funding-service-design-assessment-store",
                                 "b2866e88c34c83396f3805c08a9db550d72c5ec4",
                                 "grant assessments: Flask-SQLAlchemy on PostgreSQL, JSONB, Flask-Migrate"),
    "Artemis": ("CERT-Polska/Artemis", "aa4fe9f0f316dbfa42f3e865255b9dc622b6039f",
                "security scanner: declarative models on PostgreSQL, Alembic, raw SQL"),
    "cinder": ("openstack/cinder", "ab09bc39dbcd4d5b301f2f5da8fcfd9e5ef1fe8c",
               "OpenStack block storage: oslo.db models, soft delete, project_id, Alembic after a migrate squash"),
    "faraday": ("infobyte/faraday", "084174b9aaf8750f438532cd058216cc7a171bf3",
                "Flask-SQLAlchemy on PostgreSQL, workspace-scoped, ~90 models in one module"),
    "copr": ("fedora-copr/copr", "5d37cd838218ab0097d1da08b1682094b95b9ac6",
             "Flask-SQLAlchemy on PostgreSQL, users and groups owning projects, Alembic in a sub-package"),
    "simpler-grants-gov": ("HHS/simpler-grants-gov", "32d9a126f4f2f54228d77abe8ea4e2395b2c78d6",
                           "APIFlask and SQLAlchemy 2.0 typed, PostgreSQL schemas (api, staging, legacy), ~150 tables"),
    "cognee": ("topoteretes/cognee", "a8f9760bb6da90a9956b3be77c0d0534134f533a",
               "FastAPI and async SQLAlchemy 2.0, SQLite or PostgreSQL, tenants, roles and ACLs"),
    "pybossa": ("Scifabric/pybossa", "d6409eeaf5a88ef36d509e70175905e1b8b834e2",
                "Flask with declarative models behind repositories, PostgreSQL JSONB"),
    "koschei": ("fedora-infra/koschei", "29a6e1c3fd313d22fd09de0e2f20944fe75dbd77",
                "Flask and daemons, PostgreSQL dialect types, triggers in the migrations"),
    "anyway": ("data-for-change/anyway", "515e06640ed9c22dee9de83c2b2efb18ac64ab1f",
               "Flask-SQLAlchemy on PostGIS, ~110 tables in one module, ETL data"),
    "tracecat": ("TracecatHQ/tracecat", "4209a655bc1da1a36d75ea29edfea69daffbdd23",
                 "FastAPI and async SQLAlchemy 2.0 on PostgreSQL, org and workspace tenants under Row-Level Security"),
    "querybook": ("pinterest/querybook", "babdbc6ec0b233a666751ce0701c6a12be073325",
                  "Flask with plain SQLAlchemy sessions, MySQL first, environments as the access scope"),
    "SurfSense": ("MODSetter/SurfSense", "b4d57e9b471891962a24bbd5c77620983509abfa",
                  "FastAPI and async SQLAlchemy 2.0, PostgreSQL with pgvector, workspace tenants"),
    "cloudkitty": ("openstack/cloudkitty", "4595e09837e40d5131bfee8f52f32e29529bb2dd",
                   "OpenStack rating: oslo.db models, six Alembic environments, tenant_id scoping"),
    "papermerge-core": ("papermerge/papermerge-core", "4a69d097d9f635fad8de57929d775e2199ba5ae8",
                        "FastAPI and async SQLAlchemy 2.0, PostgreSQL or SQLite, rows owned by users or groups"),
    "funding-service": ("communitiesuk/funding-service", "375d8fd0dd1a9cf2b49e3b3dffdc67d4bd8bebbd",
                        "Flask-SQLAlchemy with typed models, PostgreSQL JSONB, organisation and grant scoping"),
    "mistral": ("openstack/mistral", "3422e078abaeb1257d986369007966768c10d4c5",
                "OpenStack workflows: oslo.db, thread-local sessions, project_id with public and private scope"),
    "storage": ("merklebot/storage", "2e46b723e7d9acb659f7b079f64349b0438ba2b3",
                "FastAPI and SQLAlchemy, a schema per tenant, each revision run once per tenant schema"),
    "OpenOversight": ("lucyparsons/OpenOversight", "00976630a3c8f9898e52444e88a37dbe4e7fd0be",
                      "Flask-SQLAlchemy and Flask-Migrate on PostgreSQL, police accountability records"),
    "zeus": ("getsentry/zeus", "6d4a490c19ebe406b551641a022ca08f26c21fcb",
             "Flask-SQLAlchemy on PostgreSQL, repository-scoped tenancy by query filtering, data backfills"),
    "tacker": ("openstack/tacker", "fea54ab7db0bc62865fbdc03cf8317337b73b3f4",
               "OpenStack NFV orchestration: oslo.db models, MySQL or PostgreSQL, tenant_id on rows"),
    "hasjob": ("hasgeek/hasjob", "76aec255dbe16dabf9e220964e63f1b1118279b5",
               "Flask-SQLAlchemy with coaster mixins on PostgreSQL, TSVECTOR and ARRAY, raw-SQL data migrations"),
    "iris-web": ("dfir-iris/iris-web", "e6aa4ba3de745c20df3fdd77e1c7369333bd1c7a",
                 "Flask-SQLAlchemy on PostgreSQL, incident cases scoped by customer and per-case ACL tables"),
    "changes": ("dropbox/changes", "37e23c3141b75e4785cf398d015e3dbca41bdd56",
                "Flask-SQLAlchemy on PostgreSQL, custom GUID and JSON types, a long linear history of 179 revisions"),
    "OpenHands": ("All-Hands-AI/OpenHands", "156d0686c46aafb0fa9d291da6421fb6f64dddc0",
                  "FastAPI and async SQLAlchemy 2.0 on PostgreSQL, per-user SaaS data, encrypted secrets, two trees"),
    "bisheng": ("dataelement/bisheng", "0172fb2846a52458f29affe9c23073fd1653da76",
                "SQLModel and async SQLAlchemy on MySQL, tenant_id across most tables"),
    "ok": ("okpy/ok", "f5610a712605cc9f7a01c92c7fbaf37726b93dfe",
           "Flask-SQLAlchemy and Flask-Migrate on MySQL, custom JSON and timezone column types, OAuth token tables"),
    "czgenepi": ("chanzuckerberg/czgenepi", "074c10043d4a14a114e3560d49f1e3889f67b9d9",
                 "FastAPI and async SQLAlchemy on PostgreSQL in its own schema, pathogen samples scoped by group_id"),
    "raw-data-repository": ("all-of-us/raw-data-repository", "39abba31f4eec2278731b82b2603c7b20954386d",
                            "Flask on MySQL, about 350 health-research tables, one Alembic env for several databases"),
    "drone-tm": ("hotosm/drone-tm", "8d2d1f383347f110644b782596c5847cadb3ddd6",
                 "FastAPI on PostGIS, models kept for Alembic while the app runs raw psycopg SQL"),
    "tiled": ("bluesky/tiled", "898f524c0500a43b92ba3a45049f145f531c6e23",
              "async SQLAlchemy on PostgreSQL or SQLite, JSONB and full-text search, two Alembic trees"),
    "watcher": ("openstack/watcher", "ec06744bffd4ba858da7f4996cc872723dfbde70",
                "OpenStack service on oslo.db and MySQL, soft-delete mixins with deleted in unique constraints"),
    "minute": ("i-dot-ai/minute", "589e4dd2c0844ef5ce4d95093ae2bab01c412a42",
               "FastAPI and SQLModel on PostgreSQL, JSONB, async sessions, users' recordings and transcripts"),
    "bazarr": ("morpheus65535/bazarr", "920853daee558751c3abe5755cb04613d28b281c",
               "Flask-Migrate and SQLAlchemy 2.0 on SQLite or PostgreSQL, bundled third-party libraries"),
    "packit-service": ("packit/packit-service", "b828c3d7b987c760aa3c09a82d99e69c04e23b68",
                       "Flask-RESTX and Celery on PostgreSQL, about 37 tables in one module, many data migrations"),
    "cg": ("Clinical-Genomics/cg", "1ec3c2130eb2bbe362380e93d6f84a03f7d99765",
           "clinical genomics CLI and Flask API on MySQL, patients' samples and cases, SQLAlchemy 2 declarative"),
    "cachito": ("containerbuildsystem/cachito", "01a944ebe81c58e294aa79bda43b475634306828",
                "Flask-SQLAlchemy and Flask-Migrate on PostgreSQL, Celery workers, association tables"),
    "iib": ("release-engineering/iib", "ec1166f287e0533821d0c2a9e2dc8e4f748e487f",
            "Flask-SQLAlchemy on PostgreSQL, joined-table polymorphic inheritance of requests"),
    "beaker": ("beaker-project/beaker", "b598aed3bb660b8ca58c435f6dff0e0232aa1dab",
               "TurboGears and Flask monolith on MySQL, about 99 declarative tables in a model package"),
    "cloudify-manager": ("cloudify-cosmo/cloudify-manager", "cdd961dd6e4a9a4d821f524d81458edb8473901e",
                         "Flask-SQLAlchemy on PostgreSQL, tenants by _tenant_id and visibility, raw-SQL migrations"),
    "test_observer": ("canonical/test_observer", "01c5ca9256ccea22e25b2e88eca5877eb9767571",
                      "FastAPI and typed SQLAlchemy 2 on PostgreSQL, about 25 tables and six association tables"),
    "appointment": ("thunderbird/appointment", "68c9900122b3c06b336bd1e43ae8a82ce172c54d",
                    "FastAPI and SQLAlchemy 2 on PostgreSQL (MySQL before), encrypted columns, soft deletes"),
}

SEVERITIES = ("critical", "warning", "info")


def _child(root: str) -> None:
    """Scan one target; print one JSON document."""
    from analyzers.engine import scan

    t0 = time.perf_counter()
    result = scan(root)
    seconds = time.perf_counter() - t0
    facts = result.facts
    findings = [
        {
            "uncited": _uncited(f, facts),
            "rule": f.rule_id,
            "severity": f.severity.value,
            "location": f"{f.location.path}:{f.location.start_line}",
            "anchor": f.anchor,
            "message": f.message,
            "suppressed": f.suppressed is not None,
        }
        for f in result.result.findings
    ]
    print(json.dumps({
        "seconds": round(seconds, 2),
        "files": result.result.files_scanned,
        "unread": [f"{e.path}: {e.message}" for e in result.result.errors],
        "tables": len(facts.tables),
        "migration_tables": len(facts.migration_tables),
        "revisions": len(facts.revisions),
        "findings": findings,
    }))


_NAME = re.compile(r"`([A-Za-z_][\w.]*)`")
# Names of the APIs a message advises or whose absence it reports: vocabulary, not objects of the target.
_VOCABULARY = {
    "after_begin", "begin", "checkin", "checkout", "reset", "connect", "current_setting", "set_config",
    "pool_pre_ping", "expire_on_commit", "DISCARD", "NULLIF", "has_key", "has_any", "has_all", "contains",
    "contained_by", "deleted_at", "server_default", "timezone", "onupdate", "lazy", "selectin", "joined",
}


def _uncited(f, facts) -> list[str]:
    """Names a message puts in backticks that none of the lines it points at shows (its evidence, its
    related locations): a message must not name an object the reader cannot see where it points."""
    from analyzers.facts.model import Span

    shown = " ".join(f.evidence)
    for r in f.related:
        shown += " " + " ".join(facts.lines(Span(r.location.path, r.location.start_line, r.location.end_line)))
    missing = []
    for name in _NAME.findall(f.message):
        parts = [p for p in name.split(".") if p]
        if name in shown or all(p in shown for p in parts) or name in _VOCABULARY:
            continue
        missing.append(name)
    return missing


def checkout_problem(name: str, targets: Path) -> str | None:
    """Why the target cannot be used (not checked out, at another commit), or None."""
    repo, commit, _ = TARGETS[name]
    where = targets / name
    if not (where / ".git").exists():
        return f"not checked out at {where} (git clone https://github.com/{repo} {where})"
    head = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    if head != commit:
        return f"at {head[:10]}, not {commit[:10]} (git -C {where} checkout {commit[:10]})"
    return None


def checkout(name: str, targets: Path, source: str) -> str:
    """Clone one target if it is missing and put its work tree at the pinned commit; what happened."""
    repo, commit, _ = TARGETS[name]
    where = targets / name
    owner, _, short = repo.partition("/")
    if not (where / ".git").exists():
        url = source.format(repo=repo, owner=owner, name=short)
        clone = subprocess.run(["git", "clone", "-q", "--no-checkout", url, str(where)], capture_output=True, text=True)
        if clone.returncode:
            return f"{name}: clone of {url} failed: {clone.stderr.strip()[-200:]}"
    # reset then checkout of the paths: a snapshot without some large blobs still gives every other file
    subprocess.run(["git", "-C", str(where), "reset", "-q", commit], capture_output=True)
    subprocess.run(["git", "-C", str(where), "checkout", "-q", commit, "--", "."], capture_output=True)
    return f"{name}: {checkout_problem(name, targets) or 'at ' + commit[:10]}"


def _run(name: str, targets: Path) -> dict:
    where = targets / name
    problem = checkout_problem(name, targets)
    if problem:
        return {"skipped": problem}
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, __file__, "--child", str(where)], capture_output=True, text=True, env=env)
    if proc.returncode:
        return {"skipped": f"scan failed: {proc.stderr.strip().splitlines()[-1:]}"}
    return json.loads(proc.stdout)


def _report(results: dict[str, dict]) -> None:
    print(f"{'target':30} {'files':>6} {'unread':>6} {'tables':>6} {'mig.t':>6} {'revs':>5} "
          f"{'crit':>5} {'warn':>5} {'info':>5} {'secs':>6}")
    for name, r in results.items():
        if "skipped" in r:
            print(f"{name:30} skipped: {r['skipped']}")
            continue
        sev = Counter(f["severity"] for f in r["findings"] if not f["suppressed"])
        print(f"{name:30} {r['files']:6} {len(r['unread']):6} {r['tables']:6} {r['migration_tables']:6} "
              f"{r['revisions']:5} {sev['critical']:5} {sev['warning']:5} {sev['info']:5} {r['seconds']:6}")
    scanned = {n: r for n, r in results.items() if "skipped" not in r}
    per_rule: dict[str, Counter] = {}
    for name, r in scanned.items():
        for f in r["findings"]:
            per_rule.setdefault(f["rule"], Counter())[name] += 1
    names = list(scanned)
    print("\nfindings per rule (columns: " + ", ".join(f"{i}={n}" for i, n in enumerate(names)) + ")")
    print(f"{'rule':8}" + "".join(f"{i:>5}" for i in range(len(names))) + "  total")
    for rule in sorted(per_rule):
        counts = per_rule[rule]
        print(f"{rule:8}" + "".join(f"{counts[n] or '.':>5}" for n in names) + f"  {sum(counts.values()):5}")
    for name, r in scanned.items():
        for line in r["unread"][:5]:
            print(f"unread in {name}: {line}")
    for name, r in scanned.items():
        for f in r["findings"]:
            if f.get("uncited"):
                print(f"names what it does not show, {name}: {f['rule']} {f['location']} {f['uncited']}: {f['message'][:100]}")


def _key(f: dict) -> tuple:
    return (f["rule"], f["anchor"], f["location"].rsplit(":", 1)[0])


def _reworded(before: list[dict], after: list[dict], moved: Counter) -> list[tuple[dict, dict]]:
    """(was, now) for findings kept under the same key but now in other words or of another severity."""
    def worded(findings: list[dict]) -> dict[tuple, list[dict]]:
        grouped: dict[tuple, list[dict]] = {}
        for f in findings:
            if _key(f) not in moved:
                grouped.setdefault(_key(f), []).append(f)
        return {k: sorted(v, key=lambda f: (f["message"], f["severity"])) for k, v in grouped.items()}
    was, now = worded(before), worded(after)
    return [(a, b) for key in sorted(now) for a, b in zip(was.get(key, []), now[key])
            if (a["message"], a["severity"]) != (b["message"], b["severity"])]


def _compare(before: dict[str, dict], after: dict[str, dict]) -> None:
    for name, r in after.items():
        old = before.get(name)
        if "skipped" in r or not old or "skipped" in old:
            continue
        was = Counter(_key(f) for f in old["findings"])
        now = Counter(_key(f) for f in r["findings"])
        gone, new = was - now, now - was
        by_key = {_key(f): f for f in old["findings"] + r["findings"]}
        changed = _reworded(old["findings"], r["findings"], gone | new)
        if not gone and not new and not changed:
            continue
        print(f"\n{name}: -{sum(gone.values())} +{sum(new.values())} ~{len(changed)}")
        for sign, moved in (("-", gone), ("+", new)):
            for key in sorted(moved):
                f = by_key[key]
                print(f"  {sign} {f['rule']} {f['severity']:8} {f['location']}  {f['message'][:110]}")
        for was_f, f in changed:
            severity = f["severity"] if f["severity"] == was_f["severity"] else f"{was_f['severity']}->{f['severity']}"
            print(f"  ~ {f['rule']} {severity:8} {f['location']}  {f['message'][:110]}")


def _record(path: Path, figures: str) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    shapes = "\n".join(f"| {n} | {repo} | {c[:8]} | {shape} |" for n, (repo, c, shape) in TARGETS.items())
    path.write_text(
        "# The tryout set\n\n"
        "Real backends nobody tuned dbreview for, scanned after every change to a rule, discovery or the facts\n"
        "(`python bench/tryout.py --compare PREVIOUS.json --record docs/tryout.md`). None of their code is in this\n"
        "repository; each is checked out at the commit below.\n\n"
        "| name | repository | commit | shape |\n|---|---|---|---|\n" + shapes + "\n\n"
        f"## Figures at dbreview {commit}\n\n"
        "Per target: Python files, files that could not be read, ORM tables, tables the migrations build,\n"
        "revisions, findings by severity (suppressed ones left out), seconds of one cold scan on a shared\n"
        "2-core machine (an order of magnitude, not a benchmark). Then findings per rule and target.\n\n"
        "```text\n" + figures.rstrip() + "\n```\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=Path, default=Path(os.environ.get("DBREVIEW_TARGETS", "/work/targets")))
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--record", type=Path, help="write the figures to this Markdown file (docs/tryout.md)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--checkout", action="store_true", help="clone the missing targets at their pinned commits")
    parser.add_argument("--source", default="https://github.com/{repo}.git")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    names = args.only or list(TARGETS)
    if args.checkout:
        args.targets.mkdir(parents=True, exist_ok=True)
        for name in names:
            print(checkout(name, args.targets, args.source))
        return
    with ThreadPoolExecutor(args.jobs) as pool:
        results = dict(zip(names, pool.map(lambda n: _run(n, args.targets), names)))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _report(results)
    print(out.getvalue(), end="")
    if args.record:
        _record(args.record, out.getvalue())
    if args.compare and args.compare.exists():
        _compare(json.loads(args.compare.read_text()), results)
    if args.save:
        args.save.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
