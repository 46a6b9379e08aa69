# The two commands of the README:
#   make serve   install, then serve the SPARQL endpoint and UI on http://127.0.0.1:8000
#   make test    install (apt, pip, npm), then run ruff and the whole test suite
# and  make dist   the sdist and the wheel (which carries the graph) in dist/; see "Install with pip"
PORT ?= 8000

.PHONY: serve test setup lint dist

serve:
	scripts/setup.sh
	.venv/bin/cowkg serve --host 127.0.0.1 --port $(PORT)

test:
	scripts/setup.sh --test
	.venv/bin/ruff check cowkg tests bench scripts
	.venv/bin/python -m pytest -q

setup:
	scripts/setup.sh --test

lint:
	.venv/bin/ruff check cowkg tests bench scripts

dist:
	scripts/setup.sh
	.venv/bin/python -m pip install -q build
	.venv/bin/python -m build
