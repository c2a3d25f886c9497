# The two commands of the quick start. Each installs what it needs the first time.
.PHONY: demo test setup build bench clean

setup:
	@scripts/setup.sh --no-build

build: setup
	@npx --no-install tsc -p tsconfig.json

demo: build
	@bin/phonehome demo

test: setup
	@node scripts/run-tests.mjs

bench: build
	@node dist/bench/run.js

clean:
	rm -rf dist reports
