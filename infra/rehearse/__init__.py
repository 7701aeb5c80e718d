"""``make rehearse``: deploy the osls stack to MiniStack and run one job end to end through it.

See ``infra/rehearse/__main__.py`` for the steps and docs/operations.md for what it proves.
"""
