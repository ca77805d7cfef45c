"""Persistence for branchbot: SQLAlchemy models, migrations, queries and the trace store.

Nothing here knows about chat platforms or message wording; callers pass plain values.
"""
