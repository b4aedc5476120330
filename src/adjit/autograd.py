"""`ad.autograd`: PyTorch's `torch.autograd` names (backward, grad, gradcheck, grad mode)."""
from .core.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .reverse.engine import backward, grad  # noqa: F401
from .testing.gradcheck import gradcheck  # noqa: F401
