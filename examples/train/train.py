"""Training: count word bigrams of a corpus and write them as the weights file."""
import json
import tempfile
from collections import Counter, defaultdict

from cog import Input, Path


def train(
    corpus: str = Input(description="Training text; words are separated by whitespace"),
    min_count: int = Input(description="Drop bigrams seen fewer times than this", default=1, ge=1),
) -> Path:
    words = corpus.lower().split()
    counts: dict[str, Counter] = defaultdict(Counter)
    for current, following in zip(words, words[1:]):
        counts[current][following] += 1
    bigrams = {
        word: {nxt: n for nxt, n in sorted(followers.items()) if n >= min_count}
        for word, followers in sorted(counts.items())
    }
    bigrams = {word: followers for word, followers in bigrams.items() if followers}
    out = Path(tempfile.mkdtemp()) / "weights.json"
    out.write_text(json.dumps({"format": "bigrams-v1", "words": len(words), "bigrams": bigrams}, indent=1))
    print(f"trained on {len(words)} words, {len(bigrams)} contexts")
    return out
