# Setup: run this cell first.
# In Google Colab it installs the course helpers (course_utils); anywhere else it only checks that
# they are installed (see the README) and says how to install them if not.
import sys
if "google.colab" in sys.modules:
    import subprocess
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                           "course-utils @ {install_url}"])
else:
    try:
        import course_utils
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "course_utils is not installed in this Python: run "
            "pip install \"course-utils @ {install_url}\" "
            "in a terminal of this environment (see the README), then restart the kernel") from None
