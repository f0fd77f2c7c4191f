"""Tests of builder/oci."""
