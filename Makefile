.PHONY: dev test
# Run the whole backend locally with demo data (private MariaDB/Redis/S3 processes when none are configured).
dev:
	bin/dev
# Run every test.
test:
	bin/test
