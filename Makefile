# MDS: two commands matter — `make run` and `make test`. Everything else is for maintainers.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
STAGE  ?= prod
SUDO   := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run test test-js test-android android-jar setup lint bench package deploy clean browser screenshots

# The virtualenv is rebuilt only when a requirements file or pyproject.toml changes.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 requires pip<26.3
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/mds local up

# Every core runs tests (pytest-xdist; a file stays on one worker, so it shares one local stack);
# the 20 slowest tests are listed at the end, to keep the suite fast.
test: $(STAMP) browser test-js test-android
	$(PY) -m pytest -n auto --dist loadfile --durations=20 $(PYTEST_ARGS)

# The TypeScript SDK (clients/js): packages from the committed lockfile (npm ci, only when node_modules is
# missing or older than the lockfile), build, its unit tests and the conformance kit (no downloads at run time).
JS := clients/js
$(JS)/node_modules/.installed: $(JS)/package-lock.json
	cd $(JS) && npm ci --no-audit --no-fund
	touch $@

test-js: $(JS)/node_modules/.installed
	cd $(JS) && npm test

# The Android SDK (clients/android): javac/jar build of mds-client-android.jar (+ sources jar) into
# clients/android/build, its JUnit 5 tests and the conformance kit; JVM deps are Debian packages, installed when missing.
test-android:
	$(MAKE) -C clients/android test

android-jar:
	$(MAKE) -C clients/android jar

# The console's browser tests drive Debian's Chromium (no `playwright install`); installed when missing.
browser:
	command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

# Screenshots of each console page (docs/screenshots/, shown in the README), from a fresh local stack.
screenshots: $(STAMP) browser
	$(PY) -m tests.browser.screenshots docs/screenshots

lint: $(STAMP)
	$(VENV)/bin/ruff check chalicelib mds tests bench app.py clients
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/cold_start.py
	$(PY) bench/targeting.py
	$(PY) bench/config_delivery.py
	$(PY) bench/whitelist_import.py
	$(PY) bench/static_share.py
	$(PY) bench/check_latency.py
	$(PY) bench/packaging.py
	$(PY) bench/hotpatch.py
	$(PY) bench/openapi_upload.py
	$(PY) bench/publish_latency.py
	$(PY) bench/js_sdk.py
	$(PY) bench/android_sdk.py
	$(PY) bench/events.py

# Builds the deployable SAM template (Chalice + infra/template.json) into out/.
package: $(STAMP)
	$(PY) -m mds.deploy package --stage $(STAGE) --out out/$(STAGE)

# Real AWS deploy (needs credentials; see docs/deploy.md). DEPLOY_ARGS e.g. --api-domain ... --api-certificate-arn ...
deploy: $(STAMP)
	$(PY) -m mds.deploy deploy --stage $(STAGE) --out out/$(STAGE) $(DEPLOY_ARGS)

clean:
	rm -rf out .pytest_cache
