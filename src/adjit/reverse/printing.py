"""How a Tensor prints: as PyTorch's repr (`tensor([ 0.,  4.]), grad_fn=<MulBackward>)`)."""
import numpy as np


def tensor_repr(data, grad_fn, requires_grad):
    data = np.asarray(data)
    # as PyTorch prints: integral floats as "4.", otherwise four fixed decimals
    fixed = data.dtype.kind == "f" and data.size and not np.all(
        np.equal(np.mod(data[np.isfinite(data)], 1), 0))
    body = np.array2string(data, separator=", ", prefix="tensor(", precision=4,
                           floatmode="fixed" if fixed else "maxprec")
    extras = []
    if data.dtype.kind == "f" and data.dtype != np.float64:
        extras.append(f"dtype={data.dtype}")
    if grad_fn is not None:
        extras.append(f"grad_fn=<{grad_fn.name()}>")
    elif requires_grad:
        extras.append("requires_grad=True")
    inner = ", ".join([body] + extras)
    return f"tensor({inner})"
