"""A text model that streams its answer word by word (ConcatenateIterator: clients join the pieces)."""
from cog import BaseRunner, ConcatenateIterator, Input


class Runner(BaseRunner):
    def run(
        self,
        prompt: str = Input(description="Text to transform"),
        style: str = Input(description="How to transform each word", default="upper",
                           choices=["upper", "reverse", "title"]),
    ) -> ConcatenateIterator[str]:
        words = prompt.split()
        for index, word in enumerate(words):
            if style == "upper":
                word = word.upper()
            elif style == "reverse":
                word = word[::-1]
            else:
                word = word.capitalize()
            yield word if index == 0 else " " + word
