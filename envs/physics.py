"""Physics settings shared by the world and by everything that counts its steps."""

SIM_RATE_HZ = 240
"""Physics steps per simulated second."""

TIME_STEP = 1.0 / SIM_RATE_HZ
"""Seconds per physics step."""
