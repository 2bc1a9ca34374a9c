"""Register-level models of the chips our drivers talk to."""
