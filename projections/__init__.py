"""Projections: views derived from the event log (access log, trail) and their runner."""
