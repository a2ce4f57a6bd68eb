"""The studio: drive the arm from a browser, in code or in plain language, with a live camera view."""
