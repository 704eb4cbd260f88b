"""The instructor's authoring tools: release notebooks, example submissions, the student repository."""
