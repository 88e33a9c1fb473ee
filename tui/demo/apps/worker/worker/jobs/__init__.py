"""arq job functions; worker.main.WorkerSettings schedules them (reminders every 5 minutes, retention nightly)."""
