"""Grayscale + resize: a Pillow model with a file input and a file output."""
import tempfile

from PIL import Image

from cog import BaseRunner, Input, Path


class Runner(BaseRunner):
    def run(
        self,
        image: Path = Input(description="Image to convert", accept="image/*"),
        scale: float = Input(description="Resize factor", default=0.5, ge=0.1, le=4.0),
    ) -> Path:
        with Image.open(image) as source:
            gray = source.convert("L")
        width = max(1, round(gray.width * scale))
        height = max(1, round(gray.height * scale))
        resized = gray.resize((width, height), Image.Resampling.NEAREST)
        out = Path(tempfile.mkdtemp()) / "gray.png"
        resized.save(out)
        return out
