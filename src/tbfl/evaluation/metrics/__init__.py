"""Event-based (collar), intersection-based and PSDS metrics on frame scores."""
