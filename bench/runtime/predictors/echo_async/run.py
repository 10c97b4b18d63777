import cog
from cog import BaseRunner


class Runner(BaseRunner):
    @cog.concurrent(max=8)
    async def run(self, text: str) -> str:
        return text
