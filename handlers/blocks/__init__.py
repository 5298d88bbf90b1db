"""Block Kit builders: pure functions from read models to Slack JSON."""
