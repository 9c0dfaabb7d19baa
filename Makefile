# The two set-up commands of the README: `make demo` and `make test`.
# Each creates .venv and installs what it needs the first time (scripts/setup.sh).
.PHONY: demo test setup gallery bench

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/rnngraph render dynamic --steps 2

test: setup
	.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/python benchmarks/bench_render.py

gallery: setup
	.venv/bin/rnngraph gallery --out gallery/
