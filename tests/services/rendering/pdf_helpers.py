"""Reading rendered flyers back: text and pictures from the PDF, QR codes from pixels."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image
from pypdf import PdfReader


def pdf_reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def pdf_text(pdf: bytes) -> str:
    """The page's text with runs of whitespace as single spaces (wrapped lines rejoined)."""
    return " ".join(pdf_reader(pdf).pages[0].extract_text().split())


def pdf_pictures(pdf: bytes) -> list[Image.Image]:
    pictures = [picture.image for picture in pdf_reader(pdf).pages[0].images]
    return [picture for picture in pictures if picture is not None]


def qr_texts(image: Image.Image) -> list[str]:
    return [
        code.text
        for code in zxingcpp.read_barcodes(image)
        if code.format == zxingcpp.BarcodeFormat.QRCode
    ]
