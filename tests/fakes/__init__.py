"""Fake outside services on loopback, speaking their real wire formats (DESIGN.md §7)."""
