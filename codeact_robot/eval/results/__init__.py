"""The results store: its rows (each column once), failure kinds, and exports (JSON Lines, CSV, fine-tuning)."""
