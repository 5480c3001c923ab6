"""Synthetic personas with known ground truth, and offline evaluation."""
