# Setup: run this cell first.
# In Google Colab it installs the course helpers (course_utils); anywhere else it does nothing,
# since a local install already has them (see the README).
import sys
if "google.colab" in sys.modules:
    import subprocess
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                           "course-utils @ {install_url}"])
