# Cours « Dérivation automatique avec tf.GradientTape »
#
#   make grade    corrige les rendus (par défaut : les rendus de démonstration)
#   make test     lance toute la suite de tests (make test-unit : les tests unitaires seuls)
#   make lab      ouvre JupyterLab, en français, sur le cours
#   make hub      lance un JupyterHub de démonstration pour une classe (en root)
#
# Chaque cible crée .venv à partir de requirements.txt au premier usage
# (et de nouveau quand requirements.txt change).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed

SUBMISSIONS ?= demo/submitted
OUT ?= build/grading
# The default output folder is a scratch copy: start it afresh at each run.
GRADE_FLAGS ?= $(if $(filter build/grading,$(OUT)),--reset)
ASSIGNMENTS := $(notdir $(wildcard source/ex*))

# nbgrader calls the `alembic` executable: the venv's bin/ must be on PATH.
export PATH := $(BIN):$(PATH)
# Keep TensorFlow's C++ log lines and the debugger's warning off stderr
# (nbgrader gives 0 points to a test cell that wrote to stderr).
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export PYTHONDONTWRITEBYTECODE := 1

# Debian packages: the sandbox that grading runs student code in, then what the test suite
# adds (French spell check of the lessons, a PostgreSQL server for the shared-gradebook test,
# Chromium and a font for the browser tests of JupyterLab: Playwright never downloads a browser).
GRADE_PACKAGES := bubblewrap
TEST_PACKAGES := $(GRADE_PACKAGES) hunspell hunspell-fr postgresql chromium fonts-dejavu-core
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: grade test test-unit lab lab-exchange hub hub-remove hub-proxy labextension release demo lessons bench venv grade-deps test-deps node-deps clean help

help:
	@sed -n '3,7p' Makefile

$(STAMP): requirements.txt requirements-grader.txt pyproject.toml lab/overrides.json
	@echo "Préparation de l'environnement $(VENV) (première utilisation ou requirements.txt modifié)…"
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp lab/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

venv: $(STAMP)

# Install the Debian packages of $(PACKAGES) that are missing.
define install_packages
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installation des paquets Debian nécessaires :$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
endef

grade-deps:
	$(call install_packages,$(GRADE_PACKAGES))

test-deps:
	$(call install_packages,$(TEST_PACKAGES))

# Node.js and npm build the course's JupyterLab extension and install the hub's proxy (npm
# packages in project-local node_modules/ folders, exact versions from package-lock.json).
# Debian's packages are installed only when no npm is found (a Node.js from elsewhere is kept).
node-deps:
	@command -v npm >/dev/null 2>&1 || { echo "Installation des paquets Debian nécessaires : nodejs npm"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }

# The course's JupyterLab extension (lab/extension/: nbgrader's Validate dialog in French), built
# from its sources and installed into the virtual environment.
LABEXT := $(VENV)/share/jupyter/labextensions/@tf-gradienttape/lab
labextension: $(LABEXT)/package.json

$(LABEXT)/package.json: $(STAMP) lab/extension/index.js lab/extension/package.json lab/extension/package-lock.json | node-deps
	cd lab/extension && npm ci --no-audit --no-fund --loglevel=error
	rm -rf build/labextension
	$(BIN)/jupyter builder build lab/extension
	rm -rf $(LABEXT)
	mkdir -p $(dir $(LABEXT))
	cp -R build/labextension $(LABEXT)

# The hub's proxy (configurable-http-proxy), in hub/node_modules/.
CHP := hub/node_modules/.bin/configurable-http-proxy
hub-proxy: $(CHP)

$(CHP): hub/package.json hub/package-lock.json | node-deps
	cd hub && npm ci --no-audit --no-fund --loglevel=error
	touch $(CHP)

grade: $(STAMP) grade-deps
	$(BIN)/python -m autograder grade --submissions "$(SUBMISSIONS)" --out "$(OUT)" $(GRADE_FLAGS)

# The whole suite, in two groups run at the same time (one per core on the 2-core machines), chosen by
# tests/conftest.py (--groupe); each pytest session claims its own block of sandbox uids, so both may grade:
# - the tests that grade in the sandbox (markers sandbox and hub) but the Dask cluster's and a few files
#   listed in tests/conftest.py, and the browser tests, then nbval on the lessons (re-executed, their stored
#   outputs compared, strict); its report is written to build/tests/groupe-1.log and shown at the end;
# - everything else (unit tests, checks, mutants, French, plain nbgrader, the Dask cluster), then
#   nbval on the instructor notebooks (executed, lax).
# nbval runs in each group's pytest session (after its tests), sharing the session's warm kernels.
# Kernels are forked from a process that imported TensorFlow once (coursetools/warm_kernel.py).
# Each group lists its 15 slowest tests. `make test-unit` runs the unit tests alone (under a minute).
TEST_LOGS := build/tests
test: $(STAMP) test-deps labextension hub-proxy
	@mkdir -p $(TEST_LOGS)
	@$(BIN)/python -m pytest tests course --nbval --nbval-current-env --groupe 1 -p no:cacheprovider --durations=15 \
	  > $(TEST_LOGS)/groupe-1.log 2>&1 & first=$$!; \
	$(BIN)/python -m pytest tests source --nbval-lax --nbval-current-env --groupe 2 --durations=15; others=$$?; \
	wait $$first; graded=$$?; \
	echo "=== Premier groupe : correction dans le bac à sable, hub, navigateur, leçons (nbval) ==="; cat $(TEST_LOGS)/groupe-1.log; \
	test $$others -eq 0 && test $$graded -eq 0

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests -m unit

# JupyterLab refuses to run as root unless told to (containers, CI machines).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

# lab/nbgrader_config.py (on JUPYTER_CONFIG_PATH) points nbgrader's assignment list to a local
# exchange in build/lab/, where release/ is published for the course id of nbgrader_config.py;
# lab/student/ keeps nbgrader's instructor tools out of the student's JupyterLab.
COURSE_ID := $(shell sed -n 's/^c\.CourseDirectory\.course_id = "\(.*\)"$$/\1/p' nbgrader_config.py)
LAB_EXCHANGE := build/lab/exchange/$(COURSE_ID)

lab: $(STAMP) labextension lab-exchange
	JUPYTER_CONFIG_PATH="$(CURDIR)/lab:$(CURDIR)/lab/student" $(BIN)/jupyter lab $(ALLOW_ROOT) --ServerApp.root_dir="$(CURDIR)" course/00_sommaire.ipynb

# Publish release/ to the local exchange (the students' submissions in inbound/ are kept).
lab-exchange:
	@test -n "$(COURSE_ID)" || { echo "course_id introuvable dans nbgrader_config.py" >&2; exit 1; }
	rm -rf "$(LAB_EXCHANGE)/outbound"
	mkdir -p "$(LAB_EXCHANGE)/outbound" "$(LAB_EXCHANGE)/inbound" mes-devoirs
	cp -R release/ex* "$(LAB_EXCHANGE)/outbound/"

# A demonstration class on JupyterHub, http://127.0.0.1:8000 (as root: it creates the Unix accounts
# tfgt-prof and tfgt-etu1…3, nbgrader's exchange /srv/nbgrader/exchange and the instructor's course;
# see the README, « Une classe sur JupyterHub »). `make hub-remove` removes the accounts.
hub: $(STAMP) labextension hub-proxy grade-deps
	$(BIN)/python -m coursetools.hub

hub-remove: $(STAMP)
	$(BIN)/python -m coursetools.hub --supprimer

# Regenerate the student versions from source/ (instructors, after editing source/ or the checks):
# the check library is copied beside each notebook first, so that a released folder runs anywhere.
release: $(STAMP)
	$(BIN)/python tools/bundle_checks.py
	for a in $(ASSIGNMENTS); do $(BIN)/nbgrader generate_assignment "$$a" --force --no-db || exit 1; done

# Rebuild the demo submissions from release/ and the solutions in source/.
demo: $(STAMP)
	$(BIN)/python -m autograder demo

# Re-execute the lessons and store their outputs (after editing course/).
lessons: $(STAMP)
	$(BIN)/python -m coursetools.lessons

# Benchmark: stock nbgrader against the course's pipeline (not part of make test).
# CLASSE=reelle: a realistic class (every copy complete, typical wrong answers); BENCH_FLAGS, e.g.
# --sans-stock (the course's pipeline only) or --scheduler 1 2 4 (local Dask clusters of 1, 2, 4 processes).
N ?= 200
CLASSE ?= melange
BENCH_FLAGS ?=
bench: $(STAMP) grade-deps
	$(BIN)/python benchmarks/bench_grading.py --n $(N) --classe $(CLASSE) $(BENCH_FLAGS)

clean:
	rm -rf build .pytest_cache
