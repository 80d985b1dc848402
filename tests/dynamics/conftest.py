"""Fixtures of the dynamics tests."""

import pytest


@pytest.fixture(autouse=True)
def _single_torch_thread():
    """Run each test with one torch thread, then restore the previous setting.

    The tests use tiny tensors; on a shared 2-core machine torch's parallel regions
    cost far more than they save (5-10x slower here). Results do not depend on it.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
