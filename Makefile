# The two commands of the README:
#   make run   set up, start the daemon on examples/faxd.toml (simulated modem) and fax the sample forms
#   make test  set up, run the whole test suite; prints branch coverage of the packages
.PHONY: setup run test demo clean

setup:
	./scripts/setup.sh

run: setup
	./scripts/demo.sh

test: setup
	.venv/bin/python -m pytest -n 2 -q --cov --cov-report=term

clean:
	rm -rf var .pytest_cache .hypothesis .coverage
