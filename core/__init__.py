"""Settings, the Temporal client factory, crypto and logging."""
