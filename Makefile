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

.PHONY: help dev test typecheck deps env services services-test db bench

help:
	@echo "make dev    install what is missing, migrate, seed demo data, run web + worker"
	@echo "make test   install what is missing and run the whole test suite"
	@echo "make bench  run the benchmarks in bench/ (B=<name> for one)"

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

typecheck: deps
	npx tsc --noEmit

test: deps services-test typecheck
	npm run test:contracts
	NODE_ENV=test node ace db:create
	NODE_ENV=test node ace test

# Benchmarks use .env.test with their own database, Redis db and storage
# folder, so a test run (which resets all of those) never disturbs them.
BENCH_ENV = NODE_ENV=test DB_DATABASE=matinee_bench REDIS_DB=2 QUEUE_PREFIX=matinee-bench \
	STORAGE_LOCAL_ROOT=tmp/bench-storage UPLOAD_TMP_DIR=tmp/bench-uploads X402_RPC_URL=http://127.0.0.1:18547

bench: deps services-test
	ENV_FILE=.env.test scripts/services.sh nginx wrk
	$(BENCH_ENV) node ace db:create
	$(BENCH_ENV) node ace migration:run --force
	npx hardhat build --quiet
	@for name in $(if $(B),$(B),transcode upload faults playback webhooks chain); do \
	  echo "== bench $$name"; \
	  $(BENCH_ENV) X264_PRESET=$${X264_PRESET:-veryfast} node --import @poppinss/ts-exec bench/run.ts $$name || exit 1; \
	done
