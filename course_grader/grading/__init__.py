"""Trusted: merges, judges and reports. Never runs student code; reads what the kernel sent only
through ``course_grader.protocol``."""
