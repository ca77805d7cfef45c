"""Scheduled work (APScheduler 3) with jobs persisted in the application's database."""
