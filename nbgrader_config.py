# The course's one config file: nbgrader reads the nbgrader sections, `course` reads c.Course.
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.root = "."
# Releases keep the notebook's own order and ids; the `course` tool adds the Colab cells.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.enforce_metadata = True

# nbgrader's own autograde (`nbgrader autograde`, formgrader's Autograde button) cannot grade this
# course: its hidden tests record values for `course grade` to compare outside the kernel and
# never assert, so nbgrader alone would give wrong work full marks. It refuses instead.
from nbconvert.preprocessors import Preprocessor  # noqa: E402


class GradeWithCourseGrade(Preprocessor):
    """Stops nbgrader's autograde with a message that says what to run instead."""

    def __call__(self, nb, resources):       # always, whatever `enabled` says
        raise RuntimeError(
            "this course is graded by `course grade SUBMITTED_DIR` (or `course check NOTEBOOK`), "
            "not by nbgrader's autograde: its hidden tests record values that only `course grade` "
            "compares with the reference, so nbgrader's autograde would pass wrong work. "
            "`course grade` writes nbgrader's gradebook.db, autograded/ and feedback/ as well.")


c.Autograde.sanitize_preprocessors = [GradeWithCourseGrade]
c.Autograde.autograde_preprocessors = [GradeWithCourseGrade]

# --- course settings (see course_grader/config.py for every one and its meaning) ---
# The repository students open notebooks from: Colab badges, the Colab setup cell and
# `pip install git+https://github.com/<student_repo>` all point here.
c.Course.student_repo = "example-org/cnn-course-student"
c.Course.branch = "main"
c.Course.cell_timeout = 120          # seconds of CPU time one cell may use while grading (README)
c.Course.notebook_timeout = 900      # seconds a whole notebook may run while grading
c.Course.torch_threads = 1           # torch threads per grading kernel
c.Course.seed = 0                    # seed for python, numpy and torch, set by the grader
c.Course.grading_epochs = 1          # COURSE_TRAIN_EPOCHS while grading (course_utils.budget)
c.Course.memory_limit_mb = 6144      # address-space limit of a grading kernel
c.Course.sandbox = "auto"            # bubblewrap when installed: "auto", "require" or "off"
c.Course.course_title = "Convolutional neural networks in PyTorch"
# c.Course.roster = "roster.csv"     # id,first_name,last_name,email: names in nbgrader's gradebook
# c.Course.due_dates = {"conv_from_scratch": "2027-02-01 23:59"}   # UTC; late flags in formgrader
