"""Commands for the register: idp register import, idp users verify."""
commands: list = []
