from cog import BaseRunner, Input


class Runner(BaseRunner):
    def setup(self) -> None:
        self.greeting = "hello"

    def run(self, name: str = Input(description="Who to greet", default="world")) -> str:
        return f"{self.greeting} {name}"
