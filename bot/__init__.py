"""The presswatch application: sub-packages by capability around one composition root (app.py)."""
