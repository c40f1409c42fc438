"""Tracking: batched filters, motion and measurement models, IMM, association, tracks."""
