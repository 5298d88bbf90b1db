"""The pure core: the checklist, scoring, marking rules, reminder plans, evidence and the packet.

Standard library, pydantic, PyYAML and Jinja2 only: no Slack, database, scheduler or HTTP code
(``tests/core/test_purity.py`` checks every file).
"""
