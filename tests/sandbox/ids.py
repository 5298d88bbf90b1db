"""Ids of the small workspace the sandbox tests set up."""

CHANNEL = "C0READY"
ALICE = "U0ALICE"
BOB = "U0BOB"
