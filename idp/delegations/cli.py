"""Commands for délégations: idp delegations remind, idp audit verify."""
commands: list = []
