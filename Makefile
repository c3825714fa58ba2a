.PHONY: dev test package
# Run the whole backend locally with demo data (private MariaDB/Redis/S3 processes when none are configured).
dev:
	bin/dev
# Run every test.
test:
	bin/test
# Build every Lambda package, the layers and infra/template.yaml from scratch (into build/), and report sizes.
package:
	bin/setup
	.venv/bin/python infra/build.py
