# Nuanxin Map: every entry point. `make run` and `make test` are the whole set-up on a fresh Debian machine.
PY      ?= $(shell command -v python3.11 || command -v python3)
VENV    := .venv
BIN     := $(VENV)/bin
DB      ?= var/nuanxin.gpkg
export NUANXIN_DB ?= $(DB)

.PHONY: run serve test lint bench data install install-test system-deps poster-deps postgis-deps load-deps clean FORCE

# Debian's python3 needs python3-venv for `-m venv`; install it if the first try fails.
$(BIN)/python:
	$(PY) -m venv $(VENV) || { rm -rf $(VENV); apt-get update -qq && apt-get install -y -qq python3-venv && $(PY) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed poster-deps

install-test: $(VENV)/.installed-test system-deps

# Chromium, its driver and CJK fonts for the browser tests; the PDF and QR readers of the poster tests (Debian, as root).
system-deps: poster-deps
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; \
	fi
	@if ! command -v zbarimg >/dev/null || ! command -v pdftotext >/dev/null || ! command -v pdftoppm >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zbar-tools poppler-utils >/dev/null; \
	fi

# What WeasyPrint needs at run time for the posters (Pango) and their font: installed when running as root on
# Debian, otherwise named (the app starts without them; only the poster downloads fail).
PANGO_LIBS := libpango-1.0.so.0 libpangoft2-1.0.so.0
poster-deps:
	@missing=""; for lib in $(PANGO_LIBS); do \
	  { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q "$$lib" || missing="$$missing $$lib"; \
	done; fc-list 2>/dev/null | grep -qi 'noto sans cjk' || missing="$$missing fonts"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk >/dev/null; \
	  else \
	    echo "posters (PDF) need Pango and the Noto CJK fonts, missing:$$missing; install them with" \
	         "'sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk' (Debian/Ubuntu)"; \
	  fi; \
	fi

# the demo dataset, built when missing (or when it is a demo dataset from an older release)
$(DB): $(VENV)/.installed FORCE
	$(BIN)/python -m mapdata.build --if-missing --out $(DB)

FORCE:

data: $(VENV)/.installed
	$(BIN)/python -m mapdata.build --out $(DB)

run: install $(DB)
	$(BIN)/python app.py

# production: gunicorn's application-factory form, on NUANXIN_HOST:NUANXIN_PORT; --reuse-port gives each worker
# its own listening socket, so the kernel spreads kept-alive connections over the workers (docs/decisions.md)
serve: install $(DB)
	$(BIN)/gunicorn --workers 2 --threads 4 --preload --reuse-port \
	  --bind "$$($(BIN)/python -c 'from mapdata.config import Settings; s = Settings.from_env(); print(f"{s.host}:{s.port}")')" \
	  'app:create_server()'

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# The whole suite on the GeoPackage, then the store, API, staff and reports tests again on PostGIS (a throwaway
# cluster the tests start and remove themselves: tests/pg_cluster.py): the API tests that write or share the
# store's tables (edits, accounts, the ledger, reports and points, Open311, the calendar, workers, jobs, posters);
# the planner's and the rider's read-only questions read layers through the same Store.read, tested on both.
PG_API := staff_api staff_callbacks staff_report_callbacks ledger_api report_ledger_api \
  rider_report_callbacks open311 compound_edits_api calendar_api calendar_publish_api shared_workers workers_agree \
  national_jobs_api posters
PG_TESTS := $(foreach t,$(PG_API),tests/api/test_$(t).py) tests/unit/mapdata/test_store.py tests/unit/mapdata/test_migrations.py \
  tests/unit/mapdata/test_shared_tables.py tests/unit/mapdata/test_copy.py tests/unit/mapdata/test_jobs.py \
  tests/unit/layers/staff tests/unit/layers/common/test_calendar_data.py
# the suite on TEST_WORKERS processes (pytest-xdist; most of a browser test's time is waiting for the page)
TEST_WORKERS ?= 2
test: install-test lint postgis-deps
	$(BIN)/python -m pytest -q --headless -n $(TEST_WORKERS) --dist worksteal
	$(BIN)/python -m pytest -q --store=postgis -n $(TEST_WORKERS) --dist worksteal $(PG_TESTS)

# PostgreSQL 15 and PostGIS 3 for the PostGIS store's tests and the KNN comparison (bench/bench_knn.py): a
# throwaway cluster is started from these binaries (tests/pg_cluster.py); the packages' own system cluster is
# never started.
POSTGIS_PKGS := postgresql-15 postgresql-15-postgis-3
# (createcluster.d: the packages make no "main" cluster of their own, so no system service is started)
postgis-deps:
	@if ! dpkg -s $(POSTGIS_PKGS) >/dev/null 2>&1; then \
	  mkdir -p /etc/postgresql-common/createcluster.d && \
	  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/00-nuanxin-no-main.conf && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(POSTGIS_PKGS) >/dev/null; \
	fi

# wrk, the HTTP load generator of bench/bench_load.py (Debian, as root).
load-deps:
	@if ! command -v wrk >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	fi

bench: $(VENV)/.installed-test $(DB) postgis-deps load-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
