"""import-v1-images: the v1 image server's <uuid>.webp files go to the public bucket (moto S3) under the same names
with the variants our pipeline makes; present files are skipped; a missing file is reported with its rows."""
import io

from PIL import Image

from support import make_image
from v1shop import V1_DB


def _webp(width, height, color=(30, 120, 200)):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "WEBP", quality=80)
    return buffer.getvalue()


def _keys(s3, bucket, prefix):
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])}


def test_v1_images_are_uploaded_with_variants_once(api, areas, v1_shop, admin_cli, buckets, tmp_path):
    ids = v1_shop.ids
    upgraded = admin_cli("upgrade-v1", "--from", V1_DB)  # into DB_NAME, this worker's database
    assert upgraded.returncode in (0, 3), upgraded.stdout + upgraded.stderr
    volume = tmp_path / "nginx-html"
    volume.mkdir()
    big, small, banner, teh = ids["kopi_img1"], ids["kopi_img2"], ids["banner"], ids["teh_img"]
    (volume / f"{big}.webp").write_bytes(_webp(800, 600))
    (volume / f"{small}.webp").write_bytes(_webp(200, 150))
    (volume / f"{banner}.webp").write_bytes(_webp(1400, 400))
    (volume / "index.html").write_text("not an image")
    # the small one was copied by hand before: present, so skipped (not overwritten)
    buckets.put_object(Bucket="om-public", Key=f"usercontent/{small}.webp", Body=b"already here")

    first = admin_cli("import-v1-images", str(volume))
    assert first.returncode == 4, first.stdout + first.stderr  # one referenced file is missing
    assert "2 uploaded" in first.stdout and "1 already present" in first.stdout
    assert f"MISSING {teh}.webp" in first.stdout and str(ids["teh"]) in first.stdout and "Teh Tubruk" in first.stdout
    assert "index.html" in first.stdout
    public = _keys(buckets, "om-public", "usercontent/")
    assert {f"usercontent/{big}.webp", f"usercontent/{big}-320.webp", f"usercontent/{big}-640.webp"} <= public
    assert f"usercontent/{big}-1280.webp" not in public  # never upscaled, as the pipeline does
    assert {f"usercontent/{banner}.webp", f"usercontent/{banner}-1280.webp"} <= public
    body = buckets.get_object(Bucket="om-public", Key=f"usercontent/{big}-320.webp")["Body"].read()
    assert Image.open(io.BytesIO(body)).size == (320, 240)
    assert buckets.get_object(Bucket="om-public", Key=f"usercontent/{small}.webp")["Body"].read() == b"already here"
    assert f"originals/{big}" in _keys(buckets, "om-originals", "originals/")

    # a second run uploads nothing; once the missing file turns up it is uploaded and the run is clean
    again = admin_cli("import-v1-images", str(volume))
    assert "0 uploaded" in again.stdout and "3 already present" in again.stdout
    (volume / f"{teh}.webp").write_bytes(make_image("WEBP", size=(64, 48)))
    last = admin_cli("import-v1-images", str(volume))
    assert last.returncode == 0, last.stdout + last.stderr
    assert "1 uploaded" in last.stdout and "MISSING" not in last.stdout
    # the back office can delete an imported image like an uploaded one (recorded in images)
    from omdb import db

    assert db.query_one("SELECT status FROM images WHERE id = %s", (big.bytes,))["status"] == "ready"
