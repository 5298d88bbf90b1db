"""Installing Readiness to any workspace (OAuth mode): encrypted installation stores, the OAuth flow's settings,
and the per-workspace Web API clients everything that calls Slack uses."""
