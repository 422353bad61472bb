"""Schemas: RemoteInterface, remote method schemas, and the reference constraints.

Imports nothing of the rest of the package, so that ``_referenceable`` may use it.
"""
