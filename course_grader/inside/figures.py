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


def _course_without_placeholder_layout(figure):
    """A figure that ran ``tight_layout()`` keeps a placeholder layout engine that lays out
    nothing, yet makes ``savefig`` draw the whole figure twice (a first pass for a layout);
    without it the PNG is the same, byte for byte, drawn once. A real engine is left alone."""
    import matplotlib
    engine = figure.get_layout_engine()
    if type(engine).__name__ == "PlaceHolderLayoutEngine" and not (
            matplotlib.rcParams["figure.autolayout"] or matplotlib.rcParams["figure.constrained_layout.use"]):
        figure.set_layout_engine(None)


def _course_render_figure(number, dpi):
    import base64, io
    from matplotlib._pylab_helpers import Gcf
    from IPython.display import display
    manager = Gcf.get_fig_manager(number)
    if manager is not None:
        figure = manager.canvas.figure
        _course_without_placeholder_layout(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        display({"image/png": base64.b64encode(buffer.getvalue()).decode("ascii")}, raw=True)
