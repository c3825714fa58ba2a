"""Admin command: reprocess every original (e.g. after adding a variant size), with a progress bar."""
import sys


def _reprocess(args) -> int:
    from omcommerce import media
    from omdb import db

    from functions.images import pipeline

    rows = db.query("SELECT id, original_key, byte_size FROM images ORDER BY created_at")
    total, done, failed = len(rows), 0, 0
    bucket = media.originals_bucket()
    for index, row in enumerate(rows, 1):
        db.execute("UPDATE images SET status = 'pending', attempts = 0 WHERE id = %s", (row["id"],))
        result = pipeline.process_record(bucket, row["original_key"], None)
        done += result["outcome"] == "ready"
        failed += result["outcome"] == "failed"
        width = 30
        filled = int(width * index / total) if total else width
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {index}/{total}")
        sys.stderr.flush()
    sys.stderr.write("\n")
    print(f"{done} converted, {failed} refused, {total - done - failed} skipped")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("reprocess-images", help="convert every original again (new variant sizes)")
    p.set_defaults(func=_reprocess)
