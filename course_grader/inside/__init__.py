"""Code that runs inside the student's kernel (untrusted): standard library, torch, numpy and
IPython only. The grader sends these files to the kernel as source text; nothing here decides
a grade."""
