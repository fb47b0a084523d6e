"""The browsing agent: a persona-driven model navigating an indexed corpus as a feed."""
