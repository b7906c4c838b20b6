"""Read-only adapters: they fetch and parse, and decide nothing."""
