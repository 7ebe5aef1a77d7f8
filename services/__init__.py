"""Fengqiao: four small services for Fengqiao-style community policing.

`intake`, `mediation`, `rewards` and `notify` never import each other; they talk only
through named Celery tasks whose payloads are the contracts in `services.common.contracts`.
"""
