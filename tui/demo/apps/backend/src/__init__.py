"""Clinic backend: API, persistence and background jobs."""
