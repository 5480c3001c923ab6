"""Pydantic models for every value that crosses a boundary (HTTP, workflow, activity, agent)."""
