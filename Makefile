# The two Quick start commands: `make run` and `make test`. Both create .venv on first use.
# .venv is installed from requirements.lock (the versions the suite was tested with) with every
# extra; `make lock` refreshes the lock after a change of pyproject's dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock

# Debian/Ubuntu packages the control center needs beyond a minimal system (Qt's xcb platform
# plugin and a virtual display for the window tests); `trafficai gui` names any that are missing.
SYSTEM_PACKAGES := libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
	libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libxcb-xfixes0 \
	libegl1 libgl1 libfontconfig1 libdbus-1-3 xvfb xauth mosquitto mosquitto-clients

.PHONY: run test lint typecheck venv clean scenarios bench lock system-deps

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/trafficai gui

lint: $(STAMP)
	$(BIN)/ruff check trafficai tests
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/trafficai bench sim grid4x4
	$(BIN)/trafficai bench sim city

scenarios: $(STAMP)
	$(BIN)/python scenarios/generate.py

# Pin the tested version of every package (all extras, dev and resco) from pyproject's ranges.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet 'pip-tools>=7.4,<8'
	$(BIN)/pip-compile --quiet --strip-extras --extra all --extra dev --extra resco \
		--no-emit-index-url --no-emit-find-links --output-file $(LOCK) pyproject.toml
	# the `all` extra names trafficai itself: drop that line (a path of this machine) and its comment
	$(BIN)/python -c "import re,sys; p='$(LOCK)'; t=open(p).read(); open(p,'w').write(re.sub(r'(?m)^trafficai @ .*\n(    #.*\n)*', '', t))"

# As root on Debian/Ubuntu: install the system packages above that are missing (CI does this).
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

clean:
	rm -rf $(VENV)
