"""A local stand-in for Slack: Web API sandbox server, contract and Block Kit checks, request driver."""

from bot.sandbox.blockkit import check_message_blocks, check_view
from bot.sandbox.contract import Contract, ContractProblem, MethodSpec, load_contract, validate_call
from bot.sandbox.driver import DriverError, DriverResponse, SlackDriver
from bot.sandbox.server import SlackSandbox
from bot.sandbox.state import CallRecord, Violation

__all__ = [
    "CallRecord",
    "Contract",
    "ContractProblem",
    "DriverError",
    "DriverResponse",
    "MethodSpec",
    "SlackDriver",
    "SlackSandbox",
    "Violation",
    "check_message_blocks",
    "check_view",
    "load_contract",
    "validate_call",
]
