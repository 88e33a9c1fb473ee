"""Portal v1: the Flask patient portal of the single-clinic era.

Each clinic ran its own deployment and database; the v1 iOS app still logs in here until it is
retired. Only security fixes go in (see apps/backend for the current multi-tenant API).
"""

import os

from flask import Flask
from flask_migrate import Migrate, upgrade

from .models import db


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["PORTAL_DATABASE_URL"]
    app.config["SECRET_KEY"] = os.environ["PORTAL_SECRET_KEY"]
    db.init_app(app)
    Migrate(app, db)
    with app.app_context():
        upgrade()  # so that a clinic's server is always at head after a deploy

    @app.cli.command("upgrade-db")
    def upgrade_db() -> None:
        """`flask upgrade-db`: the same upgrade, run by hand once."""
        upgrade()

    from .views import bp

    app.register_blueprint(bp)
    return app
