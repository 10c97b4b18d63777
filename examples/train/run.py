"""Predictor for the weights train.py writes: greedy next-word generation from word bigrams.

setup() gets the weights from COG_WEIGHTS (`cog run -e COG_WEIGHTS=...`), as a Replicate fine-tune does:
an http(s) URL, a data: URL or a local path. Without weights it falls back to a built-in corpus."""
import base64
import json
import os
import urllib.parse
import urllib.request
from typing import Optional

from cog import BaseRunner, Input

DEFAULT_WEIGHTS = {"format": "bigrams-v1", "words": 4, "bigrams": {"hello": {"from": 1}, "from": {"cog": 1}}}


def read_weights(source: str) -> dict:
    if source.startswith("data:"):
        header, _, payload = source.partition(",")
        raw = base64.b64decode(payload) if header.endswith(";base64") else urllib.parse.unquote_to_bytes(payload)
    elif source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=60) as response:
            raw = response.read()
    else:
        with open(source.removeprefix("file://"), "rb") as file:
            raw = file.read()
    weights = json.loads(raw)
    if weights.get("format") != "bigrams-v1":
        raise ValueError(f"not a bigrams-v1 weights file: {source[:80]}")
    return weights


class Runner(BaseRunner):
    def setup(self, weights: Optional[str] = None) -> None:
        weights = weights or os.environ.get("COG_WEIGHTS")
        self.weights = read_weights(str(weights)) if weights else DEFAULT_WEIGHTS
        print(f"loaded {len(self.weights['bigrams'])} contexts")

    def run(
        self,
        start: str = Input(description="First word"),
        length: int = Input(description="Words to generate after the first", default=5, ge=1, le=100),
    ) -> str:
        bigrams = self.weights["bigrams"]
        words = [start.lower()]
        for _ in range(length):
            followers = bigrams.get(words[-1])
            if not followers:
                break
            # Most frequent follower; ties go to the alphabetically first word.
            words.append(min(followers.items(), key=lambda item: (-item[1], item[0]))[0])
        return " ".join(words)
