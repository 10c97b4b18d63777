"""Render text into a PNG with DejaVu Sans, to try the model: cog exec python render.py "Hello" text.png"""
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def render(text: str, path: str, size: int = 48) -> None:
    font = ImageFont.truetype(FONT, size)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (right - left + 2 * size, bottom - top + 2 * size), "white")
    ImageDraw.Draw(image).text((size - left, size - top), text, font=font, fill="black")
    image.save(path)


if __name__ == "__main__":
    render(sys.argv[1], sys.argv[2])
