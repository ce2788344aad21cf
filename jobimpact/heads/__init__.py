"""Calibration heads shipped with jobimpact, one JSON file each (``jobimpact calibrate --export``).

A head applies only to the model, rubric and feature layer it was fitted on; scoring with
that model installs it into the store on first use.
"""
