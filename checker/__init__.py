"""The checker: grades the katas, tracks progress, gives hints, and checks the authoring."""
