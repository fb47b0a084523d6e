"""Multi-step moral dilemmas (MMDs layout): loader, sequential runner, metrics, report."""
