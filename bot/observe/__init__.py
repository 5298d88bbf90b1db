"""What an operator sees of a running replica: Prometheus metrics and the context carried by its log lines."""
