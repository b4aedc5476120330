"""Reverse mode: PyTorch-style tensors, the recorded graph and the backward engine."""
