"""Function transforms (JAX-style): pytrees, grad/vjp, jvp/jacfwd/jacrev/jacobian/hessian, mode selection."""
