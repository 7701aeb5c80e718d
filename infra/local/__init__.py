"""The one-machine copy of the stack, started by ``make run``."""
