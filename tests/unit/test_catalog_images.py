"""``omcommerce.catalog``: the one home of the two image rules — which image is a product's first, and the
``<uuid>.webp`` name the storefront uses — and a guard that no capability writes the first-image subquery again."""
import pathlib
import uuid

from omcommerce import catalog, media

ROOT = pathlib.Path(__file__).resolve().parents[2]
IMAGE = uuid.UUID("0b5c5a4e-3f0e-4a44-9d0c-6c1f7c2b9a10")


def test_image_file_names_an_image_as_the_storefront_does():
    assert catalog.image_file(IMAGE.bytes) == f"{IMAGE}.webp"
    assert catalog.image_file(bytearray(IMAGE.bytes)) == f"{IMAGE}.webp"
    assert catalog.image_file(IMAGE) == catalog.image_file(str(IMAGE)) == f"{IMAGE}.webp"
    assert catalog.image_file(None) == catalog.image_file(b"") == ""


def test_the_file_name_parses_back_to_its_image():
    assert media.parse_file_name(catalog.image_file(IMAGE.bytes)) == IMAGE
    assert media.public_keys(IMAGE)[0] == f"usercontent/{IMAGE}.webp"


def test_the_first_image_is_the_oldest_then_the_lowest_id():
    sql = catalog.first_image_sql("oi.product_refer")
    assert sql == ("(SELECT pi.id FROM product_images pi WHERE pi.product_refer = oi.product_refer"
                   " ORDER BY pi.created_at, pi.id LIMIT 1)")
    assert catalog.first_image_sql() in catalog.CARD_COLUMNS


def test_no_capability_writes_the_first_image_subquery_itself():
    sources = [path for folder in ("functions", "layers") for path in (ROOT / folder).rglob("*.py")]
    copies = [str(path.relative_to(ROOT)) for path in sources
              if "FROM product_images pi WHERE pi.product_refer" in path.read_text(encoding="utf-8")]
    assert copies == ["layers/commerce/python/omcommerce/catalog.py"]
