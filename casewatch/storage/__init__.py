"""Persistence: an append-only event log plus projections, on SQLite or PostgreSQL (SQLAlchemy async).

Everything here returns core objects; ORM rows never leave the package.
"""
