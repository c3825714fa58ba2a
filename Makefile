.PHONY: dev test package bench soak reliability
# Run the whole backend locally with demo data (private MariaDB/Redis/S3 processes when none are configured).
dev:
	bin/dev
# Run every test.
test:
	bin/test
# Build every Lambda package, the layers (arm64 unless ARCH=x86_64) and infra/template.yaml from scratch (into
# build/), from the lock file, and report sizes.
ARCH ?= arm64
package:
	bin/setup
	.venv/bin/python infra/build.py --arch $(ARCH)
# Run every benchmark (bench/) and write bench/results/report.md.
bench:
	bin/setup
	bin/services
	command -v wrk >/dev/null && command -v cwebp >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk webp)
	.venv/bin/python bench/run.py
# Sustained load: 120 s of mixed storefront traffic against the container entrypoint (loopback only), report and
# docs/soak.png (BENCH_SOAK_SECONDS, BENCH_SOAK_USERS, BENCH_SOAK_RPS).
soak:
	bin/setup
	bin/services
	.venv/bin/python bench/soak.py
# Run the reliability and security suite alone and regenerate docs/reliability.md.
reliability:
	bin/setup
	bin/services
	.venv/bin/python bench/reliability.py
