from cog import Input


def train(steps: int = Input(default=1)) -> str:
    return str(steps)
