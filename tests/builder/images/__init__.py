"""Tests of builder/images."""
