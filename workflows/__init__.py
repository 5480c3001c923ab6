"""Temporal workflow definitions. WORKFLOWS is the one list the worker and tests register."""

from workflows.tip_generation import GenerateTipWorkflow

WORKFLOWS = [GenerateTipWorkflow]

__all__ = ["WORKFLOWS", "GenerateTipWorkflow"]
