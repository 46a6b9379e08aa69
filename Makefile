# The two commands of the README:
#   make serve   install, then serve the SPARQL endpoint and UI on http://127.0.0.1:8000
#   make test    install (apt, pip, npm), then run ruff and the whole test suite
# and  make dist   the sdist and the wheel (which carries the graph) in dist/; see "Install with pip"
PORT ?= 8000
# pytest-xdist workers of `make test`: the suite alone keeps about one core busy (it mostly waits on
# its servers, Virtuoso, chromium and Jena), so two workers use a 2-core CI machine; each test file
# runs whole on one worker (--dist loadfile), so module-scoped servers are not started twice.
TEST_WORKERS ?= 2

.PHONY: serve test setup lint dist

serve:
	scripts/setup.sh
	.venv/bin/cowkg serve --host 127.0.0.1 --port $(PORT)

test:
	scripts/setup.sh --test
	.venv/bin/ruff check cowkg tests bench scripts
	.venv/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

setup:
	scripts/setup.sh --test

lint:
	.venv/bin/ruff check cowkg tests bench scripts

dist:
	scripts/setup.sh
	.venv/bin/python -m pip install -q build
	.venv/bin/python -m build
