# Matinee: `make dev` brings the product up, `make test` runs the whole suite.
# Both install what is missing first (Node 24, npm packages, PostgreSQL,
# Redis, FFmpeg); see scripts/.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_BIN := $(shell scripts/node-bin.sh)
ifeq ($(NODE_BIN),)
$(error Node.js 24 is required and could not be installed: see the message above)
endif
export PATH := $(NODE_BIN):$(PATH)

.PHONY: help dev cluster test typecheck deps env services services-test db bench bench-setup bench-smoke

help:
	@echo "make dev    install what is missing, migrate, seed demo data, run web + worker"
	@echo "make cluster  nginx over 2 web nodes, 2 workers, the chain watcher and S3 on this machine (Ctrl-C stops it)"
	@echo "make test   install what is missing and run the whole test suite"
	@echo "make bench  run the benchmarks in bench/ (B=<name> for one; BENCH_SMOKE=1 for a quick tiny run)"

# npm writes node_modules/.package-lock.json on every install.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

deps: node_modules/.package-lock.json

env:
	scripts/env.sh

services: env
	scripts/services.sh

services-test:
	ENV_FILE=.env.test scripts/services.sh docker-compose chromium

db: deps services
	node ace db:create
	node ace migration:run --force
	node ace db:seed

dev: db
	scripts/dev.sh

# A balanced cluster on this machine (scripts/cluster.sh): its own database
# (matinee_cluster) and Redis db on the services of .env; prints its URL.
cluster: deps services
	scripts/services.sh nginx
	scripts/cluster.sh

typecheck: deps
	npx tsc --noEmit

test: deps services-test typecheck
	npm run test:contracts
	NODE_ENV=test node ace db:create
	NODE_ENV=test node ace test
	$(MAKE) --no-print-directory bench-smoke

# Benchmarks use .env.test with their own database, Redis db and storage
# folder, so a test run (which resets all of those) never disturbs them.
BENCH_ENV = NODE_ENV=test DB_DATABASE=matinee_bench REDIS_DB=2 QUEUE_PREFIX=matinee-bench \
	STORAGE_LOCAL_ROOT=tmp/bench-storage UPLOAD_TMP_DIR=tmp/bench-uploads X402_RPC_URL=http://127.0.0.1:18547

bench-setup: deps services-test
	ENV_FILE=.env.test scripts/services.sh nginx wrk
	$(BENCH_ENV) node ace db:create
	npx hardhat build --quiet

# bench/run.ts runs every benchmark it lists, or those named in B.
bench: bench-setup
	$(BENCH_ENV) X264_PRESET=$${X264_PRESET:-veryfast} node --import @poppinss/ts-exec bench/run.ts $(B)

# Every benchmark's code path at a tiny size (seconds each): make test runs
# it, so a benchmark that no longer runs fails the build.
bench-smoke: bench-setup
	BENCH_SMOKE=1 $(BENCH_ENV) node --import @poppinss/ts-exec bench/run.ts $(B)
