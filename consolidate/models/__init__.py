"""The domain models: traces, hardware, hypervisors, power and sizing."""
