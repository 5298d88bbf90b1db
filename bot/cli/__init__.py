"""The `readiness` command line: `main` parses the arguments; one module per group of subcommands."""
