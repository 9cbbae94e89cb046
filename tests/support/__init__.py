"""What the tests share that is not a fixture: live servers, processes, the CLI, bundles.

conftest.py files hold fixtures only and delegate here, so a test module imports its helpers
from one importable place (never from a conftest, never from bench/, which is not a library).
"""
