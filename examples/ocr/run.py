"""OCR with Tesseract (a Debian package) through pytesseract (a PyPI package)."""
import pytesseract
from PIL import Image

from cog import BaseRunner, Input, Path


class Runner(BaseRunner):
    def setup(self) -> None:
        print("tesseract", pytesseract.get_tesseract_version())

    def run(
        self,
        image: Path = Input(description="Image containing printed text", accept="image/*"),
        language: str = Input(description="Tesseract language", default="eng"),
        psm: int = Input(description="Tesseract page segmentation mode", default=3, ge=0, le=13),
    ) -> str:
        with Image.open(image) as picture:
            text = pytesseract.image_to_string(picture.convert("L"), lang=language, config=f"--psm {psm}")
        return text.strip()
