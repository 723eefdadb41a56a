"""Jobmon's central server: the GraphQL API, the database and the scheduler."""

__version__ = "0.1.0"
