"""Operations commands: cleanup."""
commands: list = []
