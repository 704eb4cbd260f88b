# The README's two commands: `make demo` (the main job) and `make test` (the whole suite).
# Both create a git-ignored .venv on first use and reuse it afterwards.

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
# Real MNIST for offline machines: ../shared/data when it exists, unless COURSE_DATA_DIR is set.
SHARED_DATA := $(abspath ../shared/data)
ifeq ($(COURSE_DATA_DIR),)
ifneq ($(wildcard $(SHARED_DATA)/MNIST/raw),)
export COURSE_DATA_DIR := $(SHARED_DATA)
endif
endif
# The install is redone when the dependency list or the checkout's path changes (an editable
# install points at one checkout; .ci/run may share a cached venv between clones).
STAMP := $(VENV)/.course-installed-$(shell (echo "$(CURDIR)"; cat pyproject.toml) | sha256sum | cut -c1-16)

.PHONY: demo test data venv release clean-demo benchmark

demo: venv
	$(VENV)/bin/course demo --jobs 2

test: venv
	$(PY) -m pytest -q -n 2 --dist loadgroup

# Real MNIST into the data root (COURSE_DATA_DIR, else ../shared/data, else course_utils' cache
# folder): nothing is downloaded when the files are there already.
data: venv
	$(PY) -c "from course_utils import data; data.mnist(train=True); data.mnist(train=False); print('MNIST in', data.data_root())"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip "setuptools>=77" wheel
	@# this project was called course-utils (the student package's name) before: drop that old
	@# editable install of the checkout, which cnn-course-grader replaces
	@# (before installing: uninstalling it afterwards would delete the `course` script)
	-@$(PY) -m pip uninstall -y -q course-utils 2>/dev/null
	$(PY) -m pip install -q -e ".[grade,dev]"
	@rm -f $(VENV)/.course-installed-*
	@touch $@

release: venv
	$(VENV)/bin/course release

benchmark: venv
	$(PY) benchmarks/grading_time.py
	$(PY) benchmarks/notebook_time.py
	$(PY) benchmarks/conv_speed.py
	$(PY) benchmarks/parallel_grading.py
	$(PY) benchmarks/kernel_modes.py

clean-demo:
	rm -rf demo_output
