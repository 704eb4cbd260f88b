"""Starts, confines and drives untrusted grading kernels (the sandbox policy lives here)."""
