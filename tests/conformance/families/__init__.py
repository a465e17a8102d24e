"""One module per op family; each exposes cases(kit). See casekit.py."""
