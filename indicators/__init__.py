"""The indicator catalogue, its computation over the core layer, and indicator output checks."""
