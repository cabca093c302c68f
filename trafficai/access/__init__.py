"""Operator accounts, roles, login (argon2id + TOTP) and the tamper-evident audit log.

Sits beside ``control | vision | iot``: it may use ``storage`` (paths) and below; ``runtime`` (the
worker checks each command's role) and ``cli``/``gui`` (login, ``trafficai users``/``audit``) use it.
"""
