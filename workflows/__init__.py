"""Temporal workflow definitions. WORKFLOWS is the one list the worker and tests register."""

from workflows.agent_sweep import AgentSweepWorkflow
from workflows.recompute import RecomputeWorkflow
from workflows.tip_generation import GenerateTipWorkflow
from workflows.token_refresh import TokenRefreshWorkflow

WORKFLOWS = [AgentSweepWorkflow, GenerateTipWorkflow, RecomputeWorkflow, TokenRefreshWorkflow]

__all__ = [
    "WORKFLOWS",
    "AgentSweepWorkflow",
    "GenerateTipWorkflow",
    "RecomputeWorkflow",
    "TokenRefreshWorkflow",
]
