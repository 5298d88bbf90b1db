"""Use cases. Each takes a SQLAlchemy session (one unit of work) and the workspace it acts for."""
