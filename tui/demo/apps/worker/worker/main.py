"""arq entry point: `arq worker.main.WorkerSettings`."""

import os

from arq import cron
from arq.connections import RedisSettings

from worker.jobs.reminders import cancel_reminders, queue_reminders
from worker.jobs.retention import nightly_retention


class WorkerSettings:
    redis_settings = RedisSettings.from_dsn(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
    functions = [cancel_reminders]
    cron_jobs = [
        cron(queue_reminders, minute=set(range(0, 60, 5))),
        cron(nightly_retention, hour=3, minute=0),
    ]
