"""Temporal workflow definitions. WORKFLOWS is the one list the worker and tests register."""

from workflows.account_deletion import AccountDeletionWorkflow
from workflows.agent_sweep import AgentSweepWorkflow
from workflows.recompute import RecomputeWorkflow
from workflows.tip_generation import GenerateTipWorkflow
from workflows.token_refresh import TokenRefreshWorkflow

WORKFLOWS = [
    AccountDeletionWorkflow,
    AgentSweepWorkflow,
    GenerateTipWorkflow,
    RecomputeWorkflow,
    TokenRefreshWorkflow,
]

__all__ = [
    "WORKFLOWS",
    "AccountDeletionWorkflow",
    "AgentSweepWorkflow",
    "GenerateTipWorkflow",
    "RecomputeWorkflow",
    "TokenRefreshWorkflow",
]
