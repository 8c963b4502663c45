# Two entry points: `make demo` and `make test`. Each builds .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo-data

.PHONY: venv demo test check browser-deps cluster-deps bench clean cluster cluster-stop

$(BIN)/reviews: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@# compat: a plain path entry instead of setuptools' import-hook finder (~10 ms a process)
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	@# the checkout is installed editable: compile it once, so that a command does not
	@# recompile every module it imports (this machine sets PYTHONDONTWRITEBYTECODE=1)
	$(BIN)/python -m compileall -q cli.py archive index publish shell
	touch $(BIN)/reviews

venv: $(BIN)/reviews

# Debian's Chromium and a CJK font for the browser tests (never `playwright install`).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then \
	  echo "installing chromium and fonts-noto-cjk (apt)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# Java 17 and Maven for the cluster tier's OpenSearch nodes (cluster/), from apt when missing
cluster-deps:
	@if ! command -v mvn >/dev/null || ! command -v javac >/dev/null; then \
	  echo "installing openjdk-17-jdk-headless and maven (apt)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null; \
	fi

test: venv browser-deps cluster-deps
	$(BIN)/python -m pytest -q

# the fast loop: everything but the browser tier, the cluster tier (real OpenSearch nodes,
# started by the tests themselves) and the slow tests, on both cores (pytest-xdist; `make
# test` stays one process, as CI runs it). Why each setting (docs/benchmarks.md, "make
# check's time"):
# - --dist worksteal: each worker starts with half the tests in file order (a module's
#   shared fixtures are made by one worker) and takes over the other's last ones when done,
#   so that both finish within a second of each other.
# - PYTHONDONTWRITEBYTECODE unset: pytest keeps the test modules it rewrote for their
#   assertions (tests/__pycache__) instead of rewriting each in each worker at every run.
# - pytest's temporary folders in RAM (/dev/shm, when it has 2 GiB free; CHECK_TMP= to keep
#   them on disk), removed when every test passed: a run writes ~560 MB of archives,
#   indexes and sites, and deleting older runs' folders on this VM's disk cost 1-38 s.
CHECK_TMP ?= $(shell [ -d /dev/shm ] && [ "$$(df -Pk /dev/shm | awk 'NR==2 {print $$4}')" -gt 2097152 ] && echo /dev/shm)
check: venv
	PYTHONDONTWRITEBYTECODE= $(if $(CHECK_TMP),TMPDIR=$(CHECK_TMP)) $(BIN)/python -m pytest -q -n 2 \
	  --dist worksteal -o tmp_path_retention_policy=failed -m "not browser and not slow and not cluster"

demo: venv
	rm -rf $(DEMO) _site
	@echo '$$ reviews ingest samples/'
	-REVIEWS_DATA=$(DEMO) $(BIN)/reviews ingest --quiet samples/
	@echo; echo '$$ reviews list'
	REVIEWS_DATA=$(DEMO) $(BIN)/reviews list
	@echo; echo '$$ reviews show e051ad47 --section 8.1'
	REVIEWS_DATA=$(DEMO) $(BIN)/reviews show e051ad47 --section 8.1
	@echo; echo '$$ reviews check e051ad47'
	-REVIEWS_DATA=$(DEMO) $(BIN)/reviews check e051ad47
	@echo; echo '$$ reviews stats'
	REVIEWS_DATA=$(DEMO) $(BIN)/reviews stats
	@echo; echo '$$ reviews search 残差网络'
	REVIEWS_DATA=$(DEMO) $(BIN)/reviews search 残差网络
	@echo; echo '$$ reviews search "深度学习 -GAN" --limit 3'
	REVIEWS_DATA=$(DEMO) $(BIN)/reviews search "深度学习 -GAN" --limit 3
	@echo; echo '$$ reviews search topic:图像识别 section:4.2'
	REVIEWS_DATA=$(DEMO) $(BIN)/reviews search topic:图像识别 section:4.2
	@echo; echo '$$ reviews refs 钻孔图像'
	REVIEWS_DATA=$(DEMO) $(BIN)/reviews refs 钻孔图像
	@echo; echo '$$ reviews similar e051ad47 --limit 3'
	REVIEWS_DATA=$(DEMO) $(BIN)/reviews similar e051ad47 --limit 3
	@echo; echo '$$ reviews refs --top 5'
	REVIEWS_DATA=$(DEMO) $(BIN)/reviews refs --top 5
	@echo; echo '$$ reviews site _site'
	REVIEWS_DATA=$(DEMO) $(BIN)/reviews site --quiet _site
	@echo; echo "Open _site/index.html in a browser (it works from disk), or: $(BIN)/reviews serve _site"

bench: venv
	$(BIN)/python -m bench.ingest --sizes 1000 10000 --index --keep
	$(BIN)/python -m bench.search --sizes 1000 10000
	$(BIN)/python -m bench.checks --sizes 1000 10000
	$(BIN)/python -m bench.site --sizes 1000 10000

clean:
	rm -rf $(VENV) $(DEMO) _site artifacts .pytest_cache

# A local OpenSearch 2.19 cluster on 127.0.0.1 (cluster/__init__.py): one JVM a node, left running
# in the background; builds cluster/ with Maven the first time. Prints the URLs (also in
# $(CLUSTER_DIR)/url) last. Already running with as many nodes: says so, prints them.
# Quiet logs: CLUSTER_LOG_LEVEL=warn. Needs java (11+) and mvn, not the venv.
CLUSTER_NODES ?= 3
CLUSTER_DIR ?= .cluster
CLUSTER_HEAP ?= 512m
CLUSTER_LOG_LEVEL ?= info
cluster:
	$(PY) -m cluster start --nodes $(CLUSTER_NODES) --dir $(CLUSTER_DIR) --heap $(CLUSTER_HEAP) --log-level $(CLUSTER_LOG_LEVEL)

# stops the nodes of $(CLUSTER_DIR) (SIGTERM, SIGKILL after 20 s); nothing running is fine
cluster-stop:
	$(PY) -m cluster stop --dir $(CLUSTER_DIR)
