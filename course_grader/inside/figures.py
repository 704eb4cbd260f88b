"""Run by the grader after a notebook's last cell, for the instructor's page of figures
(``autograded/<student>/<assignment>/figures.html``): the numbers of the figures the notebook's
code left open (the grading kernel draws with Agg, so ``plt.show()`` shows nothing and keeps
them), then each one rendered as a PNG. Nothing here decides a grade: the student's code could
change what it shows, and the page is for looking, never for the student.

Sent to the kernel as source text followed by a call (``session.KernelSession.figures``).
"""


def _course_figure_numbers():
    import sys
    pyplot = sys.modules.get("matplotlib.pyplot")
    print("COURSE_FIGURES", list(pyplot.get_fignums()) if pyplot is not None else [])


def _course_render_figure(number, dpi):
    import base64, io
    from matplotlib._pylab_helpers import Gcf
    from IPython.display import display
    manager = Gcf.get_fig_manager(number)
    if manager is not None:
        buffer = io.BytesIO()
        manager.canvas.figure.savefig(buffer, format="png", dpi=dpi)
        display({"image/png": base64.b64encode(buffer.getvalue()).decode("ascii")}, raw=True)
